"""Who-knows-whom records: introductions, paths in, warm-intro paths, company rollups (stdlib only).

Filled by `network`; re-exported there, so callers write `network.PathIn`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fluffymail.crm.relationships.models import Evidence, Level
from fluffymail.errors import FluffyMailError

__all__ = [
    "CompanyPerson",
    "CompanyRollup",
    "ConnectorKind",
    "Holder",
    "IntroPath",
    "Introduction",
    "Link",
    "NetworkInputError",
    "Participant",
    "PathIn",
]


class NetworkInputError(FluffyMailError, ValueError):
    """The who-knows-whom query was given invalid input."""


class ConnectorKind(StrEnum):
    """The middle of a warm-intro path: a teammate (with their own mailbox) or one of the user's contacts."""

    TEAMMATE = "teammate"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True, kw_only=True)
class Introduction:
    """Who introduced `contact_id` to the user, and the first message that shows it.

    `is_self` is True when the user met the contact directly (the user wrote first, or the
    contact wrote first to the user with no colleague on To/Cc before the user).
    """

    contact_id: int
    introducer: str
    introducer_name: str
    introducer_contact_id: int | None
    is_self: bool
    message_id: int | None
    introduced_on: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Holder:
    """A team member (the user or a teammate) who holds a relationship, and how strong it is.

    `contact_id` is the holder's own contact row (contacts are per user). `evidence` is text
    only: message ids stay in the holder's mailbox.
    """

    user_id: int
    email: str
    name: str
    is_self: bool
    contact_id: int
    score: float
    level: Level
    last_at: datetime | None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PathIn:
    """The strongest relationship one team member has with a person, or with anyone at a company."""

    holder: Holder
    contact_address: str
    contact_name: str

    @property
    def score(self) -> float:
        return self.holder.score


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One hop of a warm-intro path: its strength 0–100, level and the facts behind it.

    Evidence carries message ids only when they are in the user's own mailbox.
    """

    strength: float
    level: Level
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IntroPath:
    """user → connector → target, ranked by `strength` = the weaker of its two links."""

    connector_kind: ConnectorKind
    connector_address: str
    connector_name: str
    connector_user_id: int | None  # a teammate's user id
    connector_contact_id: int | None  # the user's own contact row for the connector, if any
    first: Link  # user → connector
    second: Link  # connector → target
    strength: float
    level: Level


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyPerson:
    """One person at a company, with every team member who knows them, strongest first.

    `contact_id` is the user's own contact for them (matched by any address), if any.
    """

    address: str
    name: str
    contact_id: int | None
    holders: tuple[Holder, ...]

    @property
    def best(self) -> Holder:
        return self.holders[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyRollup:
    """A company seen by the whole team: its strongest relationships and company-level totals.

    `people` counts distinct people at the company in the team's visible contacts;
    `team_members` those of the team (the user included) with a relationship there.
    """

    company_id: int
    domain: str
    name: str
    people: int
    team_members: int
    strongest_score: float
    strongest_level: Level
    last_interaction: datetime | None
    relationships: tuple[CompanyPerson, ...]


# -- introductions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    """A From/To/Cc entry of a message, seen from the user (input of `choose_introducer`)."""

    role: str
    position: int
    address: str
    is_user: bool = False
    internal: bool = False
    contact_id: int | None = None

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Participant:
        return cls(
            role=item["role"],
            position=item["position"],
            address=item["address"],
            is_user=item["is_user"],
            internal=item["internal"],
            contact_id=item["contact_id"],
        )
