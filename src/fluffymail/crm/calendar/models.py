"""Meeting records as calendar adapters hand them in and as pages read them back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["MAX_ATTENDEES", "RESPONSES", "AttendeeIn", "ContactMeeting", "MeetingIn", "StoreResult"]

RESPONSES = frozenset({"needsAction", "declined", "tentative", "accepted"})
MAX_ATTENDEES = 20
"""A meeting with more people than this besides the user (an all-hands, a webinar) is kept and
shown, but neither counts in a score nor creates contacts: the bulk-mail rule for meetings."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendeeIn:
    """One person invited; `is_self` when the calendar says it is the user."""

    address: str
    name: str = ""
    response: str = "needsAction"
    organizer: bool = False
    is_self: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingIn:
    """One event instance from a calendar: its id is unique within that calendar."""

    event_id: str
    title: str = ""
    location: str = ""
    starts_on: datetime
    ends_on: datetime
    all_day: bool = False
    organizer: str | None = None
    organizer_is_self: bool = False
    attendees: tuple[AttendeeIn, ...] = ()


@dataclass(slots=True)
class StoreResult:
    """What storing a batch of events did."""

    stored: int = 0
    removed: int = 0
    skipped: int = 0  # events with nobody but the user
    contacts_created: int = 0

    def as_output(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "removed": self.removed,
            "skipped": self.skipped,
            "contacts_created": self.contacts_created,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactMeeting:
    """A meeting as the contact page lists it."""

    id: int
    title: str
    location: str
    starts_on: datetime
    ends_on: datetime
    all_day: bool
    source: str  # google or ics
    attendees: int
    response: str  # the contact's answer
    organizer: bool  # the contact organised it

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ContactMeeting:
        return cls(
            id=row["id"],
            title=row["title"],
            location=row["location"],
            starts_on=row["starts_on"],
            ends_on=row["ends_on"],
            all_day=row["all_day"],
            source="ics" if row["calendar"] == "ics" else "google",
            attendees=row["attendees"],
            response=row["response"],
            organizer=row["organizer"],
        )
