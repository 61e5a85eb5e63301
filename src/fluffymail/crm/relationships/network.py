"""Who knows whom: introductions, best paths in, warm-intro paths and company rollups across a team.

Every query is scoped to the caller's workspaces (a user sees only teammates of workspaces they
belong to). Runs SQL only through `network_repo`; imports the leaves and `crm.relationships`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from fluffymail.crm.relationships import network_repo as repo
from fluffymail.crm.relationships.models import Evidence, Level
from fluffymail.crm.relationships.network_models import (
    CompanyPerson,
    CompanyRollup,
    ConnectorKind,
    Holder,
    Introduction,
    IntroPath,
    Link,
    NetworkInputError,
    Participant,
    PathIn,
)
from fluffymail.crm.relationships.scoring import level_for

__all__ = [
    "COOCCURRENCE_HALF_LIFE_DAYS",
    "COOCCURRENCE_SCALE",
    "CO_RECIPIENT_WEIGHT",
    "MAX_TARGET_MESSAGES",
    "SCAN_LINKS",
    "TEAMMATE_STRENGTH",
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
    "best_paths_in",
    "choose_introducer",
    "company_rollup",
    "cooccurrence_strength",
    "get_introduction",
    "normalize_address",
    "record_introductions",
    "warm_intro_paths",
]

Conn = psycopg.AsyncConnection[Any]

TEAMMATE_STRENGTH = 60.0
"""user → teammate link when the user's own mail with the teammate scores lower: teammates can ask."""
CO_RECIPIENT_WEIGHT = 0.5
"""A shared thread where both were only recipients counts half of one where one wrote to the other."""
COOCCURRENCE_HALF_LIFE_DAYS = 180.0
"""A shared thread's weight halves every 180 days since its last shared message."""
COOCCURRENCE_SCALE = 3.0
"""contact → target strength = 100 · (1 − exp(−W / 3)): about 3 recent direct threads → 63."""
MAX_TARGET_MESSAGES = 500
"""Co-occurrence reads at most the user's 500 most recent messages with the target."""
SCAN_LINKS = 20_000
"""Above this many links, the target's latest messages are found walking the user's mail by
date (about 500 × messages / links rows) rather than reading all the target's links."""
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


def choose_introducer(
    contact_addresses: Iterable[str], participants: Sequence[Participant]
) -> Participant | None:
    """Affinity's rule on the first message with a contact.

    The From, if it is not the contact; else the first internal person (the user, a colleague,
    a teammate) on To, then on Cc. None: nobody else to credit, the user met them directly.
    """
    own = frozenset(contact_addresses)
    senders = [p for p in participants if p.role == "from"]
    if senders and senders[0].address not in own:
        return senders[0]
    for role in ("to", "cc"):
        on_line = sorted((p for p in participants if p.role == role), key=lambda p: p.position)
        for person in on_line:
            if (person.is_user or person.internal) and person.address not in own:
                return person
    return None


def _introduction_row(row: Mapping[str, Any]) -> dict[str, Any]:
    participants = [Participant.from_json(item) for item in row["participants"]]
    introducer = choose_introducer(row["addresses"], participants)
    if introducer is None or introducer.is_user:
        address = introducer.address if introducer else row["user_email"]
        contact_id = None
    else:
        address = introducer.address
        contact_id = introducer.contact_id if introducer.contact_id != row["contact_id"] else None
    return {
        "contact_id": row["contact_id"],
        "introducer": address,
        "introducer_contact_id": contact_id,
        "message_id": row["message_id"],
        "introduced_on": row["occurred_on"],
    }


async def record_introductions(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> int:
    """Find and store who introduced each contact to the user (Affinity's rule).

    The introducer is the From of the first message with the contact, unless that is the
    contact; then the first internal person (the user, a colleague contact, a teammate) on To,
    then on Cc. The user is recorded as the introducer when they met the contact directly.
    Idempotent upsert into `crm.introductions` with the message id; merged contacts are
    resolved to the contact they were merged into (the merged one's row is deleted), contacts
    with no mail left lose theirs; ids of other users are ignored. Run it in the caller's
    transaction, e.g. from the analyze-relationships job for the contacts with new mail.

    Returns:
        The number of introductions inserted, changed or deleted.
    """
    if not contact_ids:
        return 0
    found = await repo.first_messages(conn, user_id, contact_ids)
    rows = [_introduction_row(row) for row in found if row["message_id"] is not None]
    no_mail = [row["contact_id"] for row in found if row["message_id"] is None]
    return await repo.upsert_introductions(
        conn, user_id, rows, no_mail=no_mail, contact_ids=contact_ids
    )


async def get_introduction(conn: Conn, user_id: int, contact_id: int) -> Introduction | None:
    """The stored introduction of one of the user's contacts, or None."""
    row = await repo.get_introduction(conn, user_id, contact_id)
    if row is None:
        return None
    return Introduction(
        contact_id=row["contact_id"],
        introducer=row["introducer"],
        introducer_name=row["introducer_name"],
        introducer_contact_id=row["introducer_contact_id"],
        is_self=row["is_self"],
        message_id=row["message_id"],
        introduced_on=row["introduced_on"],
    )


# -- best paths in and company rollups ------------------------------------------------------


def _texts(evidence: Any) -> tuple[str, ...]:
    return tuple(item["text"] for item in evidence or () if item.get("text"))


def _evidence(evidence: Any) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(text=item["text"], message_ids=tuple(str(m) for m in item.get("message_ids", ())))
        for item in evidence or ()
        if item.get("text")
    )


def _holder(row: Mapping[str, Any]) -> Holder:
    return Holder(
        user_id=row["user_id"],
        email=row["email"],
        name=row["name"],
        is_self=row["is_self"],
        contact_id=row["contact_id"],
        score=float(row["score"]),
        level=Level(row["level"]),
        last_at=row["last_at"],
        evidence=_texts(row["evidence"]),
    )


def _ranked(paths: Iterable[PathIn]) -> list[PathIn]:
    return sorted(paths, key=lambda p: (-p.holder.score, not p.holder.is_self, p.holder.user_id))


async def best_paths_in(
    conn: Conn, user_id: int, *, contact_id: int | None = None, company_id: int | None = None
) -> list[PathIn]:
    """Who in the team (the user included) knows a person or a company best, strongest first.

    Give exactly one of `contact_id` (one of the user's contacts, matched in teammates'
    contacts by any of its addresses) or `company_id` (one of the user's companies, matched by
    domain). One path per team member: their strongest relationship there. The team is the
    members of every workspace the user belongs to. Unknown ids or ids of another user give [].

    Raises:
        NetworkInputError: neither or both of `contact_id` and `company_id` given.
    """
    if (contact_id is None) == (company_id is None):
        raise NetworkInputError("give exactly one of contact_id and company_id")
    if contact_id is not None:
        rows = await repo.paths_in_contact(conn, user_id, contact_id)
    else:
        assert company_id is not None
        rows = await repo.paths_in_company(conn, user_id, company_id)
    return _ranked(
        PathIn(
            holder=_holder(row),
            contact_address=row["primary_address"],
            contact_name=row["contact_name"],
        )
        for row in rows
    )


def _people(rows: Sequence[Mapping[str, Any]]) -> tuple[CompanyPerson, ...]:
    """Rows come grouped by person, strongest person first, each person's holders by score."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["person"], []).append(row)
    return tuple(_person(held) for held in grouped.values())


def _person(held: Sequence[Mapping[str, Any]]) -> CompanyPerson:
    shown = next((r for r in held if r["is_self"]), held[0])  # the user's own view first
    names = [shown["contact_name"], *(r["contact_name"] for r in held)]
    return CompanyPerson(
        address=shown["primary_address"],
        name=next((name for name in names if name), ""),
        contact_id=held[0]["own_contact_id"],
        holders=tuple(_holder(r) for r in held),
    )


async def company_rollup(
    conn: Conn, user_id: int, company_id: int, *, limit: int = 10
) -> CompanyRollup | None:
    """The team's strongest relationships at one of the user's companies and who holds each.

    Teammates' contacts are matched by company domain; a person is the user's own contact when
    any address matches, else a primary address. `limit` people, strongest first. None when
    the company is not the user's.

    Raises:
        NetworkInputError: `limit` < 1.
    """
    if limit < 1:
        raise NetworkInputError(f"limit must be at least 1, not {limit}")
    rows = await repo.company_rollup(conn, user_id, company_id, limit)
    if not rows:
        return None
    totals = rows[0]
    strongest = float(totals["strongest_score"])
    return CompanyRollup(
        company_id=totals["company_id"],
        domain=totals["domain"],
        name=totals["company_name"],
        people=totals["people"],
        team_members=totals["team_members"],
        strongest_score=strongest,
        strongest_level=level_for(strongest),
        last_interaction=totals["last_interaction"],
        relationships=_people([row for row in rows if row["person"] is not None]),
    )


# -- warm-intro paths -----------------------------------------------------------------------


def cooccurrence_strength(weight: float) -> float:
    """contact → target strength from the summed thread weight W: 100 · (1 − exp(−W / 3))."""
    return round(100.0 * (1.0 - math.exp(-max(weight, 0.0) / COOCCURRENCE_SCALE)), 1)


def _path(kind: ConnectorKind, first: Link, second: Link, **who: Any) -> IntroPath:
    strength = min(first.strength, second.strength)
    return IntroPath(
        connector_kind=kind,
        first=first,
        second=second,
        strength=strength,
        level=level_for(strength),
        **who,
    )


def _teammate_path(row: Mapping[str, Any]) -> IntroPath:
    own = float(row["first_score"] or 0.0)
    strength = max(own, TEAMMATE_STRENGTH)
    member = Evidence(text=f"Teammate in {', '.join(row['workspaces'])}")
    first = Link(
        strength=strength,
        level=level_for(strength),
        evidence=(member, *_evidence(row["first_evidence"])),
    )
    texts = _texts(row["second_evidence"])  # the teammate's mailbox: no message ids
    second = Link(
        strength=float(row["second_score"]),
        level=Level(row["second_level"]),
        evidence=tuple(Evidence(text=text) for text in texts),
    )
    return _path(
        ConnectorKind.TEAMMATE,
        first,
        second,
        connector_address=row["email"],
        connector_name=row["name"],
        connector_user_id=row["user_id"],
        connector_contact_id=row["first_contact_id"],
    )


def _contact_path(row: Mapping[str, Any]) -> IntroPath:
    first = Link(
        strength=float(row["score"]), level=Level(row["level"]), evidence=_evidence(row["evidence"])
    )
    strength = float(row["strength"])  # cooccurrence_strength(weight), computed to rank in SQL
    last = f", last on {row['last_at']:%Y-%m-%d}" if row["last_at"] else ""
    fact = Evidence(
        text=f"{row['threads']} shared threads ({row['direct_threads']} direct){last}",
        message_ids=tuple(str(m) for m in row["message_ids"] or ()),
    )
    second = Link(strength=strength, level=level_for(strength), evidence=(fact,))
    return _path(
        ConnectorKind.CONTACT,
        first,
        second,
        connector_address=row["primary_address"],
        connector_name=row["name"],
        connector_user_id=None,
        connector_contact_id=row["contact_id"],
    )


def _best_per_connector(paths: Iterable[IntroPath]) -> list[IntroPath]:
    """One path per person: a teammate who is also the user's contact is the same connector."""
    best: dict[tuple[str, int], IntroPath] = {}
    for path in paths:
        if path.connector_contact_id is not None:
            key = ("contact", path.connector_contact_id)
        else:
            key = ("user", path.connector_user_id or 0)
        if key not in best or path.strength > best[key].strength:
            best[key] = path
    return list(best.values())


def normalize_address(address: str) -> str:
    """`address` lower-cased and stripped; NetworkInputError if it is not an email address."""
    clean = address.strip().lower()
    if not _ADDRESS.fullmatch(clean):
        raise NetworkInputError(f"not an email address: {address!r}")
    return clean


async def warm_intro_paths(
    conn: Conn,
    user_id: int,
    target_address: str,
    *,
    limit: int = 5,
    now: datetime | None = None,
) -> list[IntroPath]:
    """Two-hop paths user → connector → target, strongest weaker-link first (see NETWORK.md).

    Connectors are teammates (first link: the user's relationship with them, at least
    `TEAMMATE_STRENGTH`; second link: their own relationship with the target) and the user's
    contacts (first link: the user's relationship with them; second link: threads in the
    user's mail where both appear, by count and recency as of `now`, default the database's
    clock; see `cooccurrence_strength`). One path per connector. The user's own relationship
    with the target is not a path.

    Raises:
        NetworkInputError: `target_address` is not an email address, or `limit` < 1.
    """
    target = normalize_address(target_address)
    if limit < 1:
        raise NetworkInputError(f"limit must be at least 1, not {limit}")
    mates = await repo.intro_teammates(conn, user_id, target)
    contacts = await repo.intro_cooccurrence(
        conn,
        user_id,
        target,
        now=now,
        max_messages=MAX_TARGET_MESSAGES,
        scan_links=SCAN_LINKS,
        co_weight=CO_RECIPIENT_WEIGHT,
        half_life=COOCCURRENCE_HALF_LIFE_DAYS,
        scale=COOCCURRENCE_SCALE,
        candidates=limit + len(mates),  # a teammate's own path may replace their contact path
    )
    paths = [_teammate_path(row) for row in mates] + [_contact_path(row) for row in contacts]
    usable = (p for p in _best_per_connector(paths) if p.strength > 0)
    ranked = sorted(
        usable,
        key=lambda p: (-p.strength, -(p.first.strength + p.second.strength), p.connector_address),
    )
    return ranked[:limit]
