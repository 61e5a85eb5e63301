"""The only module that runs `crm/contacts/sql/*.sql`: contacts, companies, links, merges, facts.

Every function takes the caller's connection (and so its transaction). Batches travel as
one JSON parameter (jsonb_to_recordset) and are sorted, so concurrent batches take their
locks in one order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.contacts import identity
from fluffymail.crm.contacts.automated import MAX_HUMAN_RECIPIENTS
from fluffymail.crm.contacts.extraction import Link, MessageInput, Participant, Policy
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.contacts")
Conn = psycopg.AsyncConnection[Any]
_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "precedence",
    "auto-submitted",
    "return-path",
    "content-type",
)  # load_messages.sql columns 3-8, in this order
_LEGACY_ROLES = (("from", 12), ("to", 13), ("cc", 14))  # role, load_messages.sql column


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSelf:
    user_id: int
    email: str
    aliases: tuple[str, ...]
    name: str = ""
    delegates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NameEvidence:
    contact_id: int
    primary_address: str
    name: str
    first_name: str
    last_name: str
    quality: int
    votes: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NameUpdate:
    id: int
    name: str
    first_name: str
    last_name: str
    quality: int
    identity_key: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Merge:
    id: int
    user_id: int
    into_contact_id: int
    from_contact_id: int
    addresses: tuple[str, ...]
    reason: str
    actor: str
    merged_on: datetime
    unmerged_on: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Merge:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            into_contact_id=row["into_contact_id"],
            from_contact_id=row["from_contact_id"],
            addresses=tuple(row["addresses"]),
            reason=row["reason"],
            actor=row["actor"],
            merged_on=row["merged_on"],
            unmerged_on=row["unmerged_on"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentMessage:
    id: int
    date: datetime | None
    from_name: str
    from_address: str
    body_text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """An enriched field with its provenance (`source`: 'signature' or a provider name)."""

    field: str
    value: str
    source: str
    confidence: float
    observed_on: datetime
    kind: str = ""
    source_message_id: int | None = None
    is_current: bool = True

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Fact:
        return cls(
            field=row["field"],
            value=row["value"],
            kind=row["kind"],
            source=row["source"],
            source_message_id=row["source_message_id"],
            confidence=float(row["confidence"]),
            observed_on=row["observed_on"],
            is_current=row["is_current"],
        )

    def as_param(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": self.value,
            "kind": self.kind,
            "source": self.source,
            "source_message_id": self.source_message_id,
            "confidence": self.confidence,
            "observed_on": self.observed_on.isoformat(),
        }


# -- extraction input ---------------------------------------------------------------------


async def load_messages(conn: Conn, message_ids: Sequence[int]) -> list[MessageInput]:
    """The messages with their participants, folders and connection policy, by id.

    A message with more recipients than `MAX_HUMAN_RECIPIENTS` comes with its recipient
    count but without its recipients (it is bulk whoever they are): on mailing-list corpora
    that is most of the participant rows.
    """
    ids = int_array(sorted(set(message_ids)))
    rows = await (await conn.execute(SQL["load_messages"], {"ids": ids})).fetchall()
    bulk = int_array([row[0] for row in rows if row[17] > MAX_HUMAN_RECIPIENTS])
    params = {"ids": ids, "bulk_ids": bulk}
    people: dict[int, list[Participant]] = {}
    for message_id, role, address, display_name, valid in await (
        await conn.execute(SQL["load_participants"], params)
    ).fetchall():
        person = Participant(role=role, address=address, display_name=display_name, valid=valid)
        if (found := people.get(message_id)) is None:
            people[message_id] = [person]
        else:
            found.append(person)
    return [_message_input(row, people.get(row[0], ())) for row in rows]


def _message_input(row: tuple[Any, ...], participants: Sequence[Participant]) -> MessageInput:
    """One `load_messages.sql` row (by position) and its participants."""
    return MessageInput(
        id=row[0],
        user_id=row[1],
        date=row[2],
        headers=dict(zip(_HEADERS, row[3:9], strict=True)),
        has_calendar=row[9],
        is_delivery_report=row[10],
        report_text=row[11],
        folders=tuple(row[15]),
        policy=_policy(tuple(row[16])),
        participants=tuple(participants),
        legacy_names={role: row[i] for role, i in _LEGACY_ROLES if row[i]},
        recipient_count=row[17],
        bulk_signal=row[18],
    )


@lru_cache(maxsize=64)
def _policy(values: tuple[str, ...]) -> Policy:
    return Policy.most_permissive(values)


def int_array(values: Sequence[int]) -> str:
    """A PostgreSQL array literal of integers (`{1,2,3}`), for `%(x)s::bigint[]`: much
    cheaper for psycopg to send than a list of thousands of ints."""
    return "{" + ",".join(map(str, values)) + "}"


async def stale_pending(conn: Conn, *, before: datetime) -> dict[int, list[int]]:
    """Per user, the ids of messages stored before `before` that are still not extracted."""
    cur = await conn.execute(SQL["pending_stale"], {"before": before})
    return {user_id: list(ids) for user_id, ids in await cur.fetchall()}


async def load_self(conn: Conn, user_ids: Sequence[int]) -> dict[int, UserSelf]:
    params = {"user_ids": sorted(set(user_ids))}
    rows = await (await conn.execute(SQL["load_self"], params)).fetchall()
    return {
        user_id: UserSelf(
            user_id=user_id,
            email=email,
            aliases=tuple(aliases),
            name=name,
            delegates=tuple(delegates),
        )
        for user_id, email, aliases, name, delegates in rows
    }


async def lock_user(conn: Conn, user_id: int, *, exclusive: bool) -> None:
    """Transaction-scoped advisory lock on the user's extraction (see lock_user.sql)."""
    await conn.execute(SQL["lock_user"], {"user_id": user_id, "exclusive": exclusive})


async def add_aliases(
    conn: Conn, user_id: int, aliases: Sequence[tuple[str, str, int | None]], now: datetime
) -> list[str]:
    """Record `(address, source, message_id)` as the user's; their contacts become 'self'.

    Returns the addresses that were new.
    """
    rows = [{"address": a, "source": s, "message_id": m} for a, s, m in aliases]
    params = {"user_id": user_id, "aliases": _dumps(rows), "now": now}
    return [r[0] for r in await (await conn.execute(SQL["insert_aliases"], params)).fetchall()]


async def suppress_self(conn: Conn, user_id: int, aliases: Sequence[str], now: datetime) -> None:
    """Contacts whose address is one of the user's own are suppressed as 'self'."""
    params = {"user_id": user_id, "aliases": sorted(aliases), "now": now}
    await conn.execute(SQL["suppress_self"], params)


async def unlink_messages(
    conn: Conn, user_id: int, aliases: Sequence[str]
) -> tuple[set[int], set[int]]:
    """Drop the links of every message linked to `aliases`: (message ids, contact ids)."""
    params = {"user_id": user_id, "aliases": sorted(aliases)}
    rows = await (await conn.execute(SQL["unlink_messages"], params)).fetchall()
    return {m for m, _ in rows}, {c for _, c in rows if c is not None}


async def sent_senders(conn: Conn, user_id: int, sent_pattern: str) -> list[tuple[str, str, int]]:
    """`(address, display name, messages)` of every From in the user's sent folders."""
    params = {"user_id": user_id, "sent_pattern": sent_pattern}
    rows = await (await conn.execute(SQL["sent_senders"], params)).fetchall()
    return [(address, name or "", messages) for address, messages, name in rows]


async def load_mailbox_senders(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    """The user's decided sent-folder senders (aliases and delegates) with their evidence."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["load_mailbox_senders"], {"user_id": user_id})
        return await cur.fetchall()


async def save_mailbox_senders(
    conn: Conn, user_id: int, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Store the rule's decisions (rows: address, display_name, messages, total, kind, reason)."""
    if rows:
        params = {"user_id": user_id, "rows": _dumps(list(rows)), "now": now}
        await conn.execute(SQL["save_mailbox_senders"], params)


async def decide_mailbox_sender(
    conn: Conn, user_id: int, address: str, kind: str, reason: str, now: datetime
) -> None:
    params = {"user_id": user_id, "address": address, "kind": kind, "reason": reason, "now": now}
    await conn.execute(SQL["decide_mailbox_sender"], params)


async def delete_aliases(conn: Conn, user_id: int, addresses: Sequence[str]) -> list[str]:
    """Drop aliases (never the account's address); returns those dropped."""
    params = {"user_id": user_id, "addresses": sorted(addresses)}
    return [r[0] for r in await (await conn.execute(SQL["delete_aliases"], params)).fetchall()]


async def release_self(conn: Conn, user_id: int, addresses: Sequence[str], now: datetime) -> None:
    """Contacts suppressed as 'self' for `addresses` are people again."""
    params = {"user_id": user_id, "addresses": sorted(addresses), "now": now}
    await conn.execute(SQL["release_self"], params)


async def unlink_participants(
    conn: Conn, user_id: int, addresses: Sequence[str]
) -> tuple[set[int], set[int]]:
    """Drop the links of every message `addresses` took part in: (message ids, contact ids)."""
    params = {"user_id": user_id, "addresses": sorted(addresses)}
    rows = await (await conn.execute(SQL["unlink_participants"], params)).fetchall()
    return {m for m, _ in rows}, {c for _, c in rows if c is not None}


# -- companies and contacts ------------------------------------------------------------------


async def ensure_companies(
    conn: Conn, user_id: int, companies: Mapping[str, str], now: datetime
) -> dict[str, int]:
    """Company id per registrable domain (`companies`: domain -> name), created if missing."""
    if not companies:
        return {}
    rows = [{"domain": d, "name": n} for d, n in sorted(companies.items())]
    params = {"user_id": user_id, "companies": _dumps(rows), "now": now}
    found = dict(
        (d, i) for i, d in await (await conn.execute(SQL["insert_companies"], params)).fetchall()
    )
    missing = [d for d in companies if d not in found]
    if missing:  # created by a concurrent transaction after this statement's snapshot
        params = {"user_id": user_id, "domains": missing}
        rows2 = await (await conn.execute(SQL["find_companies"], params)).fetchall()
        found.update((d, i) for i, d in rows2)
    return found


async def ensure_contacts(
    conn: Conn, user_id: int, contacts: Sequence[dict[str, Any]], now: datetime
) -> tuple[dict[str, int], set[int]]:
    """Contact id per address (rows: address, company_id, is_internal), created if missing.

    Returns the mapping and the ids of contacts created by this call.
    """
    if not contacts:
        return {}, set()
    rows = sorted(contacts, key=lambda r: r["address"])
    params = {"user_id": user_id, "contacts": _dumps(rows), "now": now}
    found: dict[str, int] = {}
    created: set[int] = set()
    for address, contact_id, is_new in await (
        await conn.execute(SQL["ensure_contacts"], params)
    ).fetchall():
        found[address] = contact_id
        if is_new:
            created.add(contact_id)
    missing = sorted(r["address"] for r in rows if r["address"] not in found)
    if missing:
        params = {"user_id": user_id, "addresses": missing, "now": now}
        found.update(await (await conn.execute(SQL["find_contacts"], params)).fetchall())
    return found, created


async def insert_links(
    conn: Conn,
    user_id: int,
    links: Sequence[Link],
    reasons: Sequence[tuple[int, str | None]],
) -> list[Link]:
    """Insert links and mark messages processed with their automated reason (None:
    person-to-person); returns the links that are new (a re-run returns none)."""
    rows = [
        {
            "message_id": link.message_id,
            "address": link.address,
            "role": link.role,
            "display_name": link.display_name,
            "occurred_on": link.occurred_on.isoformat() if link.occurred_on else None,
            "visible": link.visible,
        }
        for link in links
    ]
    finished = [{"id": i, "reason": r} for i, r in sorted(reasons)]
    params = {"user_id": user_id, "links": _dumps(rows), "messages": _dumps(finished)}
    fresh = set(await (await conn.execute(SQL["insert_links"], params)).fetchall())
    return [link for link in links if (link.message_id, link.address, link.role) in fresh]


async def apply_links(
    conn: Conn,
    user_id: int,
    fresh: Sequence[Link],
    names: Sequence[NameUpdate],
    now: datetime,
    groups: Mapping[int, str] | None = None,
) -> dict[int, bool]:
    """Add new links to name votes and contact counts, store new names, and make the persons
    of `groups` (contact id -> `groups.GroupReason`) groups, in one statement (run it last in
    the transaction: it locks hot contact rows, all in key order).

    Returns the contacts updated, each with whether it is visible (created, live).
    """
    if not fresh and not names and not groups:
        return {}
    rows = [
        {
            "address": link.address,
            "role": link.role,
            "display_name": link.display_name,
            "occurred_on": link.occurred_on.isoformat() if link.occurred_on else None,
            "visible": link.visible,
        }
        for link in fresh
    ]
    params = {
        "user_id": user_id,
        "links": _dumps(rows),
        "names": _dumps(_name_rows(names)),
        "groups": _dumps([{"id": i, "reason": r} for i, r in sorted((groups or {}).items())]),
        "now": now,
    }
    return dict(await (await conn.execute(SQL["apply_links"], params)).fetchall())


async def load_name_evidence(conn: Conn, contact_ids: Sequence[int]) -> list[NameEvidence]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["load_name_votes"], {"ids": sorted(set(contact_ids))})
        rows = await cur.fetchall()
    grouped: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = grouped.setdefault(row["contact_id"], {**row, "votes": {}})
        if row["display_name"] is not None:
            entry["votes"][row["display_name"]] = (
                entry["votes"].get(row["display_name"], 0) + row["votes"]
            )
    return [
        NameEvidence(
            contact_id=cid,
            primary_address=e["primary_address"],
            name=e["name"],
            first_name=e["first_name"],
            last_name=e["last_name"],
            quality=e["name_quality"],
            votes=tuple(sorted(e["votes"].items())),
        )
        for cid, e in grouped.items()
    ]


async def update_names(conn: Conn, updates: Sequence[NameUpdate], now: datetime) -> None:
    if updates:
        params = {"names": _dumps(_name_rows(updates)), "now": now}
        await conn.execute(SQL["update_names"], params)


def _name_rows(updates: Sequence[NameUpdate]) -> list[dict[str, Any]]:
    return [
        {
            "id": u.id,
            "name": u.name,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "quality": u.quality,
            "identity_key": u.identity_key,
        }
        for u in sorted(updates, key=lambda u: u.id)
    ]


async def mark_bounced(
    conn: Conn, user_id: int, bounces: Sequence[tuple[str, int, datetime | None]]
) -> None:
    """`(address, report message id, date)`: remember the bounce, flag the address row."""
    if not bounces:
        return
    rows = [
        {"address": a, "message_id": m, "bounced_on": d.isoformat() if d else None}
        for a, m, d in bounces
    ]
    await conn.execute(SQL["mark_bounced"], {"user_id": user_id, "bounces": _dumps(rows)})


@dataclass(frozen=True, slots=True)
class FanoutEvidence:
    """A message that reached the user without naming them: its only To/Cc and its sender."""

    address: str
    sender: str  # '' when the message has no sender
    message_id: int


async def add_fanout_evidence(
    conn: Conn, user_id: int, evidence: Sequence[FanoutEvidence], *, keep: int
) -> None:
    """Record a batch's fan-out evidence, at most `keep` messages per address and sender in
    all (a re-run adds nothing)."""
    if evidence:
        params = {
            "keep": keep,
            "user_id": user_id,
            "addresses": [e.address for e in evidence],
            "senders": [e.sender for e in evidence],
            "message_ids": int_array([e.message_id for e in evidence]),
        }
        await conn.execute(SQL["fanout_evidence_add"], params)


async def forget_fanout_evidence(conn: Conn, user_id: int, addresses_: Sequence[str]) -> None:
    """Drop the evidence of mail naming `addresses_` (now known to be the user's or a
    delegate's)."""
    if addresses_:
        params = {"user_id": user_id, "addresses": sorted({a.lower() for a in addresses_})}
        await conn.execute(SQL["fanout_evidence_forget"], params)


async def fanout_candidates(
    conn: Conn, user_id: int, contact_ids: Sequence[int], *, min_messages: int, min_senders: int
) -> list[tuple[int, str]]:
    """Of `contact_ids`, the persons (id, address) whose address fans mail out to the user."""
    if not contact_ids:
        return []
    params = {
        "user_id": user_id,
        "ids": int_array(sorted(set(contact_ids))),
        "min_messages": min_messages,
        "min_senders": min_senders,
    }
    rows = await (await conn.execute(SQL["fanout_candidates"], params)).fetchall()
    return [(r[0], r[1]) for r in rows]


# -- merges ------------------------------------------------------------------------------------


async def find_merge_candidates(
    conn: Conn, contact_ids: Sequence[int]
) -> list[tuple[int, int, str, str, str]]:
    """`(into_id, from_id, identity_key, into_name, from_name)` of live contacts with the same
    identity."""
    params = {"ids": sorted(set(contact_ids))}
    return [
        tuple(r)
        for r in await (await conn.execute(SQL["find_merge_candidates"], params)).fetchall()
    ]  # type: ignore[misc]


async def address_candidates_of(
    conn: Conn,
    user_id: int,
    contact_ids: Iterable[int],
    hosts: Iterable[str],
    locals_: Iterable[str],
) -> list[identity.AddressCandidate]:
    """These live people's addresses at `hosts` or with one of `locals_` (local parts), for
    `identity.address_pairs`."""
    params = {
        "user_id": user_id,
        "ids": sorted(set(contact_ids)),
        "hosts": sorted(set(hosts)),
        "locals": sorted(set(locals_)),
    }
    return await _address_candidates(conn, "address_candidates_of", params)


async def address_candidates_at(
    conn: Conn, user_id: int, addresses_: Iterable[str], hosts: Iterable[str]
) -> list[identity.AddressCandidate]:
    """The live people without a full name at one of `addresses_`, with each of their
    addresses at `hosts`."""
    wanted = sorted(set(addresses_))
    if not wanted:
        return []
    params = {"user_id": user_id, "addresses": wanted, "hosts": sorted(set(hosts))}
    return await _address_candidates(conn, "address_candidates_at", params)


async def address_candidates_named(
    conn: Conn,
    user_id: int,
    keys: identity.NameKeys,
    hosts: Iterable[str],
    locals_: Iterable[str],
) -> list[identity.AddressCandidate]:
    """The live fully named people with one of the names of `keys` (compared by
    `crm.name_key`), with their addresses at `hosts` or with one of `locals_`."""
    if not keys:
        return []
    params = {
        "user_id": user_id,
        "givens": [name for name, _ in sorted(keys.givens)],
        "givens_other": [other for _, other in sorted(keys.givens)],
        "families": [name for name, _ in sorted(keys.families)],
        "families_other": [other for _, other in sorted(keys.families)],
        "full_first": [first for first, _ in sorted(keys.full)],
        "full_last": [last for _, last in sorted(keys.full)],
        "hosts": sorted(set(hosts)),
        "locals": sorted(set(locals_)),
    }
    return await _address_candidates(conn, "address_candidates_named", params)


async def _address_candidates(
    conn: Conn, query: str, params: dict[str, Any]
) -> list[identity.AddressCandidate]:
    rows = await (await conn.execute(SQL[query], params)).fetchall()
    return [
        identity.AddressCandidate(
            contact_id=r[0], address=r[1], name=r[2], first=r[3], last=r[4], quality=r[5]
        )
        for r in rows
    ]


async def live_people(conn: Conn, contact_ids: Iterable[int]) -> dict[int, identity.NamedPerson]:
    """The live person each of `contact_ids` is (the one it joined, if merged), named or not."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    rows = await (await conn.execute(SQL["live_people"], {"ids": ids})).fetchall()
    return {
        r[0]: identity.NamedPerson(contact_id=r[1], name=r[2], first=r[3], last=r[4], quality=r[5])
        for r in rows
    }


async def namesakes(
    conn: Conn, user_id: int, people: Iterable[identity.NamedPerson]
) -> list[identity.NamedPerson]:
    """The user's live fully named people whose names are about those of `people` (a superset
    of their namesakes: `crm.name_key`)."""
    names_ = sorted({(p.first, p.last) for p in people})
    if not names_:
        return []
    params = {
        "user_id": user_id,
        "first": [first for first, _ in names_],
        "last": [last for _, last in names_],
    }
    rows = await (await conn.execute(SQL["namesakes"], params)).fetchall()
    return [
        identity.NamedPerson(contact_id=r[0], name=r[1], first=r[2], last=r[3], quality=r[4])
        for r in rows
    ]


async def pairs_sharing_a_message(
    conn: Conn, user_id: int, pairs: Iterable[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Of `pairs` of contacts, those both among the recipients (To, Cc) of one message of the
    user, by undamaged addresses."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    params = {"user_id": user_id, "a": [a for a, _ in wanted], "b": [b for _, b in wanted]}
    rows = await (await conn.execute(SQL["pairs_sharing_a_message"], params)).fetchall()
    return {(r[0], r[1]) for r in rows}


async def undone_merges(
    conn: Conn, user_id: int, contact_ids: Sequence[int]
) -> set[frozenset[int]]:
    """Pairs among merges of these contacts that the user undid (never merged again by rule)."""
    params = {"user_id": user_id, "ids": sorted(set(contact_ids))}
    rows = await (await conn.execute(SQL["undone_merges"], params)).fetchall()
    return {frozenset(r) for r in rows}


async def lock_contacts(conn: Conn, contact_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["lock_contacts"], {"ids": sorted(set(contact_ids))})
        return {row["id"]: row for row in await cur.fetchall()}


async def move_addresses(
    conn: Conn, from_id: int, to_id: int, addresses: Sequence[str] | None = None
) -> list[str]:
    params = {
        "from_id": from_id,
        "to_id": to_id,
        "addresses": list(addresses) if addresses is not None else None,
    }
    return sorted(
        r[0] for r in await (await conn.execute(SQL["move_addresses"], params)).fetchall()
    )


async def record_merge(
    conn: Conn,
    *,
    user_id: int,
    into_id: int,
    from_id: int,
    addresses: Sequence[str],
    reason: str,
    actor: str,
    now: datetime,
) -> int:
    """Mark `from_id` absorbed by `into_id` and record the merge; returns the merge id."""
    params = {
        "user_id": user_id,
        "into_id": into_id,
        "from_id": from_id,
        "addresses": list(addresses),
        "reason": reason,
        "actor": actor,
        "now": now,
    }
    row = await (await conn.execute(SQL["record_merge"], params)).fetchone()
    assert row is not None
    return int(row[0])


async def get_merge(conn: Conn, merge_id: int) -> Merge | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["get_merge"], {"id": merge_id})).fetchone()
    return Merge.from_row(row) if row else None


async def record_unmerge(conn: Conn, merge_id: int, actor: str, now: datetime) -> bool:
    params = {"id": merge_id, "actor": actor, "now": now}
    return bool(await (await conn.execute(SQL["record_unmerge"], params)).fetchall())


async def recompute_counts(conn: Conn, contact_ids: Sequence[int], now: datetime) -> None:
    await conn.execute(SQL["recompute_counts"], {"ids": sorted(set(contact_ids)), "now": now})


# -- enrichment and reads ------------------------------------------------------------------------


async def get_contact(conn: Conn, contact_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        return await (await cur.execute(SQL["get_contact"], {"id": contact_id})).fetchone()


async def list_contacts(
    conn: Conn, user_id: int, *, visible_only: bool = True
) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        params = {"user_id": user_id, "visible_only": visible_only}
        return await (await cur.execute(SQL["list_contacts"], params)).fetchall()


async def recent_messages(conn: Conn, contact_id: int, limit: int) -> list[RecentMessage]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["recent_messages"], {"id": contact_id, "limit": limit})
        rows = await cur.fetchall()
    return [
        RecentMessage(
            id=r["id"],
            date=r["date"],
            from_name=r["from_name"] or "",
            from_address=r["from_address"],
            body_text=r["body_text"] or "",
        )
        for r in rows
    ]


async def save_facts(conn: Conn, contact_id: int, facts: Sequence[Fact]) -> None:
    """Upsert facts, then mark the newest value of each (field, kind) current."""
    if facts:
        rows = [f.as_param() for f in facts]
        await conn.execute(SQL["upsert_facts"], {"contact_id": contact_id, "facts": _dumps(rows)})
    await conn.execute(SQL["refresh_current_facts"], {"contact_id": contact_id})


async def list_facts(conn: Conn, contact_id: int) -> list[Fact]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["list_facts"], {"contact_id": contact_id})
        return [Fact.from_row(r) for r in await cur.fetchall()]


async def update_company(
    conn: Conn, company_id: int, *, name: str | None, website: str | None, now: datetime
) -> None:
    params = {"id": company_id, "name": name, "website": website, "now": now}
    await conn.execute(SQL["update_company"], params)


async def leave_free_mail_company(
    conn: Conn, contact_id: int, company_id: int, now: datetime
) -> bool:
    """Unlink the contact from `company_id`, a free-mail domain's, unless the user chose or
    named it; whether it was unlinked."""
    params = {"id": contact_id, "company_id": company_id, "now": now}
    return bool(await (await conn.execute(SQL["leave_free_mail_company"], params)).fetchall())


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
