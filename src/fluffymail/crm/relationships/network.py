"""Who knows whom: introductions, best paths in, warm-intro paths and company rollups across a team.

Every query is scoped to the caller's workspaces (a user sees only teammates of workspaces they
belong to). Runs SQL only through `network_repo`; imports the leaves and `crm.relationships`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg

from fluffymail.crm.relationships.models import Evidence, Level

__all__ = [
    "CompanyPerson",
    "CompanyRollup",
    "ConnectorKind",
    "Holder",
    "IntroPath",
    "Introduction",
    "Link",
    "PathIn",
    "best_paths_in",
    "company_rollup",
    "get_introduction",
    "record_introductions",
    "warm_intro_paths",
]

Conn = psycopg.AsyncConnection[Any]


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
    """One person at a company, with every team member who knows them, strongest first."""

    address: str
    name: str
    holders: tuple[Holder, ...]

    @property
    def best(self) -> Holder:
        return self.holders[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyRollup:
    """A company seen by the whole team: its strongest relationships and company-level totals.

    `people` counts distinct people (by address) at the company in the team's contacts;
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


async def record_introductions(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> int:
    """Find and store who introduced each contact to the user (Affinity's rule).

    The introducer is the From of the first message with the contact, unless that is the
    contact; then the first internal person (the user, a colleague contact, a teammate) on To,
    then on Cc. The user is recorded as the introducer when they met the contact directly.
    Idempotent upsert into `crm.introductions` with the message id; merged contacts are
    resolved to the contact they were merged into; ids of other users are ignored.

    Returns:
        The number of introductions inserted or changed.
    """
    raise NotImplementedError


async def get_introduction(conn: Conn, user_id: int, contact_id: int) -> Introduction | None:
    """The stored introduction of one of the user's contacts, or None."""
    raise NotImplementedError


async def best_paths_in(
    conn: Conn, user_id: int, *, contact_id: int | None = None, company_id: int | None = None
) -> list[PathIn]:
    """Who in the team (the user included) knows a person or a company best, strongest first.

    Give exactly one of `contact_id` (one of the user's contacts, matched in teammates'
    contacts by any of its addresses) or `company_id` (one of the user's companies, matched by
    domain). One path per team member: their strongest relationship there. Unknown ids or ids
    of another user give [].

    Raises:
        ValueError: neither or both of `contact_id` and `company_id` given.
    """
    raise NotImplementedError


async def warm_intro_paths(
    conn: Conn,
    user_id: int,
    target_address: str,
    *,
    limit: int = 5,
    now: datetime | None = None,
) -> list[IntroPath]:
    """Two-hop paths user → connector → target, strongest weaker-link first (see NETWORK.md).

    Connectors are teammates (second link: their own relationship with the target) and the
    user's contacts (second link: threads in the user's mail where both appear, by count and
    recency as of `now`, default the database's clock). The user's own relationship with the
    target is not a path.

    Raises:
        ValueError: `target_address` is not an email address, or `limit` < 1.
    """
    raise NotImplementedError


async def company_rollup(
    conn: Conn, user_id: int, company_id: int, *, limit: int = 10
) -> CompanyRollup | None:
    """The team's strongest relationships at one of the user's companies and who holds each.

    Teammates' contacts are matched by company domain. None when the company is not the user's.
    """
    raise NotImplementedError
