"""A user's stored messages as the web app shows them: one message with its participants, and
message references (subject and date) for citations, evidence and fact sources.

Every query carries the caller's user id: another user's message looks exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.db.sql import load_sql
from fluffymail.errors import FluffyMailError

SQL = load_sql("fluffymail.web")
Conn = psycopg.AsyncConnection[Any]
BIGINT_MAX = 2**63 - 1


class MessageNotFound(FluffyMailError):
    """No such message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRef:
    """A cited message; `found` is False when it no longer exists (or was never the user's)."""

    id: int
    subject: str | None = None
    date: datetime | None = None
    from_address: str | None = None
    found: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    role: str
    address: str
    display_name: str
    contact_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressGroup:
    """A named group the message was addressed to (`To: Team: a@x, b@y;`), with its members."""

    header: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageView:
    id: int
    subject: str
    date: datetime | None
    from_address: str | None
    from_name: str | None
    participants: tuple[Participant, ...]
    body_text: str
    thread_id: int | None
    thread_subject: str | None
    thread_message_count: int | None
    message_id_header: str | None
    automated_reason: str | None
    address_groups: tuple[AddressGroup, ...] = ()

    def with_role(self, *roles: str) -> list[Participant]:
        return [p for p in self.participants if p.role in roles]


async def fetch_all(conn: Conn, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one of `web/sql/*.sql` by name; rows as dicts."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[query], params, prepare=False)  # type: ignore[index]
        return await cur.fetchall()


async def fetch_one(conn: Conn, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    rows = await fetch_all(conn, query, params)
    return rows[0] if rows else None


def message_ids(values: Iterable[Any]) -> list[int]:
    """Message ids as stored in JSON (ints or digit strings); anything else is not an id."""
    ids: list[int] = []
    for value in values:
        text = str(value).strip()
        if text.isdigit() and 0 < int(text) <= BIGINT_MAX and int(text) not in ids:
            ids.append(int(text))
    return ids


async def resolve_refs(conn: Conn, user_id: int, ids: Iterable[int]) -> dict[int, MessageRef]:
    """Subject and date of each id; ids that are not the user's come back with `found=False`."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await fetch_all(conn, "message_refs", {"user_id": user_id, "ids": wanted})
    found = {row["id"]: MessageRef(found=True, **row) for row in rows}
    return {i: found.get(i) or MessageRef(id=i) for i in wanted}


async def get_message(pool: AsyncConnectionPool, user_id: int, message_id: int) -> MessageView:
    """The user's message with its participants; `MessageNotFound` when missing or not theirs."""
    params = {"id": message_id, "user_id": user_id}
    async with pool.connection() as conn:
        row = await fetch_one(conn, "message_get", params)
        if row is None:
            raise MessageNotFound(f"no message {message_id}")
        people = await fetch_all(conn, "message_participants", params)
    groups = tuple(
        AddressGroup(header=g["header"], name=g["name"], members=tuple(g["members"]))
        for g in row.pop("address_groups")
    )
    return MessageView(
        participants=tuple(Participant(**p) for p in people), address_groups=groups, **row
    )
