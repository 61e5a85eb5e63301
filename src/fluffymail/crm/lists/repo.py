"""The only module that runs `crm/lists/sql/*.sql`: lists of contacts and their members.

Every function takes the caller's connection (and so its transaction); reads are scoped to what
the user may see (their own lists and those shared with their workspace), writes to the owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.lists")
Conn = psycopg.AsyncConnection[Any]
Kind = Literal["view", "static"]


class DuplicateName(Exception):
    """The owner already has a list by that name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactList:
    id: int
    workspace_id: int
    owner_id: int
    owner: str
    name: str
    kind: Kind
    filter: str
    sort: str
    columns: tuple[str, ...]
    shared: bool
    members: int
    created_on: datetime
    updated_on: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ContactList:
        return cls(
            id=row["id"],
            workspace_id=row["workspace_id"],
            owner_id=row["owner_id"],
            owner=row["owner"],
            name=row["name"],
            kind=row["kind"],
            filter=row["filter"],
            sort=row["sort"],
            columns=tuple(row["columns"]),
            shared=row["shared"],
            members=row["members"],
            created_on=row["created_on"],
            updated_on=row["updated_on"],
        )


Hidden = Literal["hidden", "not_person", "group", "self", "kept_out", "held_back"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unshown:
    """A contact a list's page never shows (members_not_shown.sql says why)."""

    id: int
    label: str
    why: Hidden


@dataclass(frozen=True, slots=True, kw_only=True)
class ListFields:
    """What a list is made of (None in an update: left as it is)."""

    name: str | None = None
    filter: str | None = None
    sort: str | None = None
    columns: Sequence[str] | None = None
    shared: bool | None = None


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall()


async def create(
    conn: Conn, workspace_id: int, owner_id: int, kind: Kind, fields: ListFields
) -> int:
    params = {
        "workspace_id": workspace_id,
        "owner_id": owner_id,
        "kind": kind,
        "name": fields.name,
        "filter": fields.filter or "",
        "sort": fields.sort or "strength",
        "columns": list(fields.columns or ()),
        "shared": bool(fields.shared),
    }
    try:
        async with conn.transaction():  # a savepoint: the caller's transaction goes on
            rows = await _rows(conn, "list_insert", params)
    except psycopg.errors.UniqueViolation as error:
        raise DuplicateName(fields.name) from error
    return int(rows[0]["id"])


async def get(conn: Conn, user_id: int, list_id: int) -> ContactList | None:
    params = {"id": list_id, "user_id": user_id}
    rows = await _rows(conn, "list_get", params)
    return ContactList.from_row(rows[0]) if rows else None


async def visible(conn: Conn, user_id: int) -> list[ContactList]:
    rows = await _rows(conn, "list_all", {"user_id": user_id})
    return [ContactList.from_row(r) for r in rows]


async def update(conn: Conn, owner_id: int, list_id: int, fields: ListFields) -> bool:
    params = {
        "id": list_id,
        "owner_id": owner_id,
        "name": fields.name,
        "filter": fields.filter,
        "sort": fields.sort,
        "columns": list(fields.columns) if fields.columns is not None else None,
        "shared": fields.shared,
    }
    try:
        async with conn.transaction():
            return bool(await _rows(conn, "list_update", params))
    except psycopg.errors.UniqueViolation as error:
        raise DuplicateName(fields.name) from error


async def views_naming_tags(conn: Conn, workspace_id: int) -> list[tuple[int, str]]:
    """(id, filter) of the workspace's saved views with a `tag:` term, locked for an update."""
    rows = await _rows(conn, "views_naming_tags", {"workspace_id": workspace_id})
    return [(int(r["id"]), str(r["filter"])) for r in rows]


async def set_view_filter(conn: Conn, list_id: int, text: str) -> None:
    """Rewrite a saved view's filter, whoever owns it (the caller decided it may)."""
    await conn.execute(SQL["view_filter_set"], {"id": list_id, "filter": text})


async def members_of(conn: Conn, list_id: int) -> list[int]:
    """The contacts on a static list."""
    return [r["contact_id"] for r in await _rows(conn, "members_of", {"list_id": list_id})]


async def delete(conn: Conn, owner_id: int, list_id: int) -> None:
    await conn.execute(SQL["list_delete"], {"id": list_id, "owner_id": owner_id})


async def not_shown(conn: Conn, contact_ids: Sequence[int]) -> list[Unshown]:
    """Those of `contact_ids` that a list's page never shows, each with why."""
    rows = await _rows(conn, "members_not_shown", {"contact_ids": list(contact_ids)})
    return [Unshown(id=r["id"], label=r["label"], why=r["why"]) for r in rows]


async def add_members(
    conn: Conn, list_id: int, user_id: int, contact_ids: Sequence[int]
) -> list[int]:
    """Put the contacts on the list; answers those that were not on it yet."""
    params = {"list_id": list_id, "user_id": user_id, "contact_ids": sorted(contact_ids)}
    return sorted(r["contact_id"] for r in await _rows(conn, "members_add", params))


async def remove_members(conn: Conn, list_id: int, contact_ids: Sequence[int]) -> list[int]:
    params = {"list_id": list_id, "contact_ids": sorted(contact_ids)}
    return sorted(r["contact_id"] for r in await _rows(conn, "members_remove", params))
