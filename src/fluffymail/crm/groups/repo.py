"""The only module that runs `crm/groups/sql/*.sql`: a user's groups and their members.

Every function takes the caller's connection (and so its transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.groups")
Conn = psycopg.AsyncConnection[Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    id: int
    address: str
    name: str
    reason: str  # contacts.groups.GroupReason
    last_interaction_on: datetime | None
    messages: int  # messages addressed to it (lists only)
    members: int  # people seen writing to it (lists only)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Group:
        return cls(
            id=row["id"],
            address=row["address"],
            name=row["name"],
            reason=row["reason"] or "",
            last_interaction_on=row["last_interaction_on"],
            messages=row["messages"],
            members=row["members"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    address: str
    name: str
    messages: int  # messages they wrote to the group
    contact_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Member:
        return cls(
            address=row["address"],
            name=row["name"],
            messages=row["messages"],
            contact_id=row["contact_id"],
        )


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall()


async def list_groups(conn: Conn, user_id: int, *, limit: int = 500) -> list[Group]:
    """The user's live groups, most recently used first."""
    rows = await _rows(conn, "list_groups", {"user_id": user_id, "limit": limit})
    return [Group.from_row(r) for r in rows]


async def get_group(conn: Conn, user_id: int, group_id: int) -> Group | None:
    """One of the user's groups; None for another user's contact or a person."""
    rows = await _rows(conn, "get_group", {"user_id": user_id, "id": group_id})
    return Group.from_row(rows[0]) if rows else None


async def members(conn: Conn, user_id: int, group_id: int, *, limit: int = 500) -> list[Member]:
    """The people seen writing to the group, most messages first."""
    params = {"user_id": user_id, "id": group_id, "limit": limit}
    return [Member.from_row(r) for r in await _rows(conn, "group_members", params)]


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedGroup:
    """An RFC 5322 group named in the headers (no address of its own: known by its name)."""

    name: str
    messages: int  # the user's messages addressed to it
    last_seen: datetime | None
    members: tuple[str, ...]  # addresses listed under it

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> NamedGroup:
        return cls(
            name=row["name"],
            messages=row["messages"],
            last_seen=row["last_seen"],
            members=tuple(row["members"]),
        )


async def named_groups(conn: Conn, user_id: int, *, limit: int = 200) -> list[NamedGroup]:
    """The groups the user's mail was addressed to by name, most recently seen first."""
    rows = await _rows(conn, "named_groups", {"user_id": user_id, "limit": limit})
    return [NamedGroup.from_row(r) for r in rows]
