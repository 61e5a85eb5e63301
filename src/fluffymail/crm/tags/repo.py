"""The only module that runs `crm/tags/sql/*.sql`: a workspace's tags and what carries them.

Every function takes the caller's connection (and so its transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.tags")
Conn = psycopg.AsyncConnection[Any]
COLOURS = ("grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink")
"""The palette (0018_notes_tags_activity.sql checks it); pages draw each as a `tag-<colour>`
CSS class."""
SubjectKind = Literal["contact", "company"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    id: int
    name: str
    colour: str
    contacts: int = 0  # how many of the user's contacts carry it (in lists only)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Tag:
        return cls(id=row["id"], name=row["name"], colour=row["colour"], contacts=row["contacts"])


class DuplicateName(Exception):
    """The workspace already has a tag by that name."""


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall()


async def _tag(conn: Conn, name: str, params: dict[str, Any]) -> Tag | None:
    rows = await _rows(conn, name, params)
    return Tag.from_row(rows[0]) if rows else None


async def user_workspace(conn: Conn, user_id: int) -> int | None:
    rows = await _rows(conn, "user_workspace", {"user_id": user_id})
    return rows[0]["workspace_id"] if rows else None


async def list_tags(conn: Conn, workspace_id: int, user_id: int) -> list[Tag]:
    rows = await _rows(conn, "tag_list", {"workspace_id": workspace_id, "user_id": user_id})
    return [Tag.from_row(r) for r in rows]


async def get_tag(conn: Conn, workspace_id: int, tag_id: int, *, user_id: int) -> Tag | None:
    """The workspace's tag, with how many of the user's contacts carry it."""
    params = {"workspace_id": workspace_id, "tag_id": tag_id, "user_id": user_id}
    return await _tag(conn, "tag_get", params)


async def create_tag(conn: Conn, workspace_id: int, *, name: str, colour: str, user_id: int) -> Tag:
    """A new tag; `DuplicateName` when the workspace has one by that name (ignoring case)."""
    params = {"workspace_id": workspace_id, "name": name, "colour": colour, "user_id": user_id}
    tag = await _tag(conn, "tag_insert", params)
    if tag is None:
        raise DuplicateName(name)
    return tag


async def update_tag(
    conn: Conn, workspace_id: int, tag_id: int, *, name: str | None, colour: str | None
) -> Tag | None:
    """The tag renamed or recoloured, None when not the workspace's; `DuplicateName` when
    another tag has the new name (the caller's transaction stays usable)."""
    params = {"workspace_id": workspace_id, "tag_id": tag_id, "name": name, "colour": colour}
    try:
        async with conn.transaction():
            return await _tag(conn, "tag_update", params)
    except psycopg.errors.UniqueViolation:
        raise DuplicateName(name or "") from None


async def carriers(conn: Conn, workspace_id: int, tag_id: int) -> list[tuple[SubjectKind, int]]:
    """The contacts and companies (every teammate's) that carry the workspace's tag."""
    rows = await _rows(conn, "tag_carriers", {"workspace_id": workspace_id, "tag_id": tag_id})
    return [(r["kind"], r["id"]) for r in rows]


async def delete_tag(conn: Conn, workspace_id: int, tag_id: int) -> Tag | None:
    return await _tag(conn, "tag_delete", {"workspace_id": workspace_id, "tag_id": tag_id})


async def tag_contacts(
    conn: Conn, user_id: int, tag_id: int, contact_ids: Sequence[int]
) -> list[int]:
    """Tag the user's contacts among `contact_ids`; the ids newly tagged."""
    params = {"user_id": user_id, "tag_id": tag_id, "contact_ids": sorted(set(contact_ids))}
    return sorted(r["contact_id"] for r in await _rows(conn, "contacts_tag", params))


async def untag_contacts(
    conn: Conn, user_id: int, tag_id: int, contact_ids: Sequence[int]
) -> list[int]:
    """Untag the user's contacts among `contact_ids`; the ids it came off."""
    params = {"user_id": user_id, "tag_id": tag_id, "contact_ids": sorted(set(contact_ids))}
    return sorted(r["contact_id"] for r in await _rows(conn, "contacts_untag", params))


async def tag_company(conn: Conn, user_id: int, tag_id: int, company_id: int) -> bool:
    params = {"user_id": user_id, "tag_id": tag_id, "company_id": company_id}
    return bool(await _rows(conn, "company_tag", params))


async def untag_company(conn: Conn, user_id: int, tag_id: int, company_id: int) -> bool:
    params = {"user_id": user_id, "tag_id": tag_id, "company_id": company_id}
    return bool(await _rows(conn, "company_untag", params))


async def tags_of_contacts(conn: Conn, user_id: int, ids: Sequence[int]) -> dict[int, list[Tag]]:
    """The tags on each of the user's contacts in `ids` (contacts without any are absent)."""
    return await _tags_of(conn, "contact_tags", user_id, ids)


async def tags_of_companies(conn: Conn, user_id: int, ids: Sequence[int]) -> dict[int, list[Tag]]:
    return await _tags_of(conn, "company_tags", user_id, ids)


async def _tags_of(conn: Conn, name: str, user_id: int, ids: Sequence[int]) -> dict[int, list[Tag]]:
    found: dict[int, list[Tag]] = {}
    for row in await _rows(conn, name, {"user_id": user_id, "ids": list(ids)}):
        found.setdefault(row["owner_id"], []).append(Tag.from_row(row))
    return found


async def owned_contacts(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> list[int]:
    """Those of `contact_ids` that are the user's contacts and not merged away."""
    params = {"user_id": user_id, "contact_ids": sorted(set(contact_ids))}
    return [r["id"] for r in await _rows(conn, "contacts_owned", params)]


async def tag_by_name(conn: Conn, workspace_id: int, name: str) -> Tag | None:
    return await _tag(conn, "tag_by_name", {"workspace_id": workspace_id, "name": name})
