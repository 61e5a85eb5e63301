"""Follow-up records: what is due, why, and what the user did about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    CADENCE = "cadence"  # the contact's keep-in-touch cadence ran out
    COLD = "cold"  # the relationship is going cold (crm.relationships.going_cold)
    QUESTION = "question"  # they asked a question you never answered
    PROMISE = "promise"  # you promised something and have not written since
    MET = "met"  # you met them a while ago and no mail followed


class State(StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"  # closed by itself: answered, cadence cleared, warmed up


@dataclass(frozen=True, slots=True, kw_only=True)
class Followup:
    id: int
    contact_id: int
    contact_name: str
    reason: Reason
    detail: str
    message_id: int | None
    message_subject: str | None
    message_date: datetime | None
    due_on: datetime
    state: State
    remind_on: datetime | None  # NULL while waiting for them to write, or closed
    until_reply: bool
    created_on: datetime
    closed_on: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Followup:
        return cls(
            id=row["id"],
            contact_id=row["contact_id"],
            contact_name=row["contact_name"],
            reason=Reason(row["reason"]),
            detail=row["detail"],
            message_id=row["message_id"],
            message_subject=row["message_subject"],
            message_date=row["message_date"],
            due_on=row["due_on"],
            state=State(row["state"]),
            remind_on=row["remind_on"],
            until_reply=row["until_reply"],
            created_on=row["created_on"],
            closed_on=row["closed_on"],
        )

    def is_due(self, now: datetime) -> bool:
        return self.remind_on is not None and self.remind_on <= now


@dataclass(frozen=True, slots=True, kw_only=True)
class Wanted:
    """A follow-up the user should have, as recomputing finds it."""

    contact_id: int
    reason: Reason
    key: str
    message_id: int | None
    detail: str
    due_on: datetime

    def as_row(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "reason": self.reason.value,
            "key": self.key,
            "message_id": self.message_id,
            "detail": self.detail,
            "due_on": self.due_on.isoformat(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Reminder:
    """A follow-up's reminder to (re)schedule: it fires at `at`."""

    followup_id: int
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Reopened:
    """A follow-up opened again: its reminder (None only when it closed by itself at once, its
    cadence cleared meanwhile), and the keep-in-touch rounds that made way for it and what
    closed by itself (cancel their reminders)."""

    reminder: Reminder | None
    displaced: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recomputed:
    reschedule: tuple[Reminder, ...]  # reminders whose time changed
    closed: tuple[int, ...]  # follow-ups closed by themselves: cancel their reminders
    wanted: int  # how many follow-ups recomputing found (done or dismissed ones included)
    open: int  # how many of the user's follow-ups are open or snoozed afterwards

    def as_output(self) -> dict[str, int]:
        return {
            "rescheduled": len(self.reschedule),
            "closed": len(self.closed),
            "open": self.open,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Fired:
    """A reminder that fired: what the `followup.due` event says."""

    followup_id: int
    workspace_id: int
    user_id: int
    contact_id: int
    contact_name: str
    reason: Reason
    detail: str
    message_id: int | None
    remind_on: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Fired:
        return cls(
            followup_id=row["id"],
            workspace_id=row["workspace_id"],
            user_id=row["user_id"],
            contact_id=row["contact_id"],
            contact_name=row["contact_name"],
            reason=Reason(row["reason"]),
            detail=row["detail"],
            message_id=row["message_id"],
            remind_on=row["remind_on"],
        )

    def payload(self) -> dict[str, Any]:
        return {
            "followup_id": self.followup_id,
            "contact_id": self.contact_id,
            "contact": self.contact_name,
            "reason": self.reason.value,
            "detail": self.detail,
            "message_id": self.message_id,
            "due": self.remind_on.isoformat(),
        }
