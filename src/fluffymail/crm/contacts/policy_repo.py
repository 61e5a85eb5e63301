"""The only module that runs `crm/contacts/sql/policy_*.sql`: what a connection's creation
policy made of the people in its mail, the people it held back, and re-applying it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from fluffymail.crm.contacts.extraction import Link, Policy
from fluffymail.crm.contacts.repo import Conn, int_array
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.contacts")


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """People in one connection's mail (`policy_explain.sql`); each person counted once."""

    policy: Policy
    messages: int  # the connection's messages
    pending: int  # of which not yet extracted
    automated: int  # of which automated or bulk: they make no one a contact
    wrote: int  # people who wrote to the user
    waiting: int  # of whom not contacts (held back by the policy)
    written_to: int  # people the user wrote to
    contacts: int  # people in its mail who are contacts

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Counts:
        return cls(**{**row, "policy": Policy(row["policy"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """A person who wrote to the user through a connection and is not a contact."""

    contact_id: int
    address: str
    name: str
    messages: int
    last_on: datetime | None


async def counts(conn: Conn, user_id: int, connection_id: int) -> Counts | None:
    """None when the connection is not the user's."""
    params = {"user_id": user_id, "connection_id": connection_id}
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["policy_explain"], params)).fetchone()
    return Counts.from_row(row) if row else None


async def waiting(
    conn: Conn, user_id: int, connection_id: int, *, limit: int, offset: int
) -> tuple[list[Sender], int]:
    """A page of the people held back (most messages first) and how many there are."""
    params = {"user_id": user_id, "connection_id": connection_id, "limit": limit, "offset": offset}
    async with conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(SQL["policy_waiting"], params)).fetchall()
    senders = [
        Sender(
            contact_id=r["id"],
            address=r["primary_address"],
            name=r["name"],
            messages=r["messages"],
            last_on=r["last_on"],
        )
        for r in rows
    ]
    return senders, (int(rows[0]["total"]) if rows else 0)


async def keep(conn: Conn, user_id: int, contact_ids: Sequence[int], now: datetime) -> list[int]:
    """Make the user's live contacts among `contact_ids` visible for good; their ids."""
    params = {"user_id": user_id, "ids": int_array(sorted(set(contact_ids))), "now": now}
    rows = await (await conn.execute(SQL["policy_keep"], params)).fetchall()
    return sorted(r[0] for r in rows)


async def message_ids(
    conn: Conn, user_id: int, connection_id: int, *, after_id: int, limit: int
) -> list[int]:
    params = {
        "user_id": user_id,
        "connection_id": connection_id,
        "after_id": after_id,
        "limit": limit,
    }
    return [r[0] for r in await (await conn.execute(SQL["policy_message_ids"], params)).fetchall()]


async def pending(conn: Conn, user_id: int, connection_id: int) -> int:
    params = {"user_id": user_id, "connection_id": connection_id}
    row = await (await conn.execute(SQL["policy_pending"], params)).fetchone()
    return int(row[0]) if row else 0


async def set_visible(conn: Conn, links: Sequence[Link]) -> dict[str, bool]:
    """Store each link's `visible`; the addresses whose links changed, each True when one of
    its links became visible."""
    if not links:
        return {}
    rows = [
        {"message_id": k.message_id, "address": k.address, "role": k.role, "visible": k.visible}
        for k in links
    ]
    params = {"links": json.dumps(rows, separators=(",", ":"))}
    changed: dict[str, bool] = {}
    for address, visible in await (
        await conn.execute(SQL["policy_set_visible"], params)
    ).fetchall():
        changed[address] = changed.get(address, False) or visible
    return changed


async def refresh(
    conn: Conn, user_id: int, changed: Mapping[str, bool], now: datetime
) -> dict[int, bool]:
    """Contacts of the `changed` addresses (each True when one of its links became visible)
    shown or hidden by their links (never the user's work); the contacts that changed, each
    with whether it is now visible."""
    if not changed:
        return {}
    params = {
        "user_id": user_id,
        "addresses": sorted(changed),
        "shown": sorted(a for a, shown in changed.items() if shown),
        "now": now,
    }
    return dict(await (await conn.execute(SQL["policy_refresh"], params)).fetchall())


async def set_policy(conn: Conn, user_id: int, connection_id: int, policy: Policy) -> bool:
    """Store the connection's policy; False when it is not the user's (or being deleted)."""
    params = {"id": connection_id, "user_id": user_id, "policy": str(policy)}
    return (await (await conn.execute(SQL["set_policy"], params)).fetchone()) is not None
