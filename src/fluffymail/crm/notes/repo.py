"""The only module that runs `crm/notes/sql/*.sql`: notes, their mentions, and reading them.

Every function takes the caller's connection (and so its transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.notes import mentions
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.notes")
Conn = psycopg.AsyncConnection[Any]
MAX_BYTES = 100_000
"""The longest note, in UTF-8 bytes (0018_notes_tags_activity.sql checks it too)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    id: int
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    id: int
    contact_id: int | None
    company_id: int | None
    body: str  # Markdown, as written
    author_id: int | None
    author: str  # the author's name or email
    created_on: datetime
    updated_on: datetime
    mentions: tuple[Mention, ...]

    @property
    def edited(self) -> bool:
        return self.updated_on > self.created_on

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Note:
        return cls(
            id=row["id"],
            contact_id=row["contact_id"],
            company_id=row["company_id"],
            body=row["body"],
            author_id=row["author_id"],
            author=row["author"],
            created_on=row["created_on"],
            updated_on=row["updated_on"],
            mentions=tuple(Mention(id=m["id"], label=m["label"]) for m in row["mentions"]),
        )


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall() if cur.description else []


async def get_note(conn: Conn, user_id: int, note_id: int) -> Note | None:
    """The note, when it is about one of the user's contacts or companies."""
    params = {"user_id": user_id, "note_id": note_id}
    rows = await _rows(conn, "note_get", params)
    return Note.from_row(rows[0]) if rows else None


async def insert_note(
    conn: Conn,
    *,
    workspace_id: int,
    author_id: int,
    subject: tuple[str, int],
    body: str,
    now: datetime,
) -> int:
    """A new note about `("contact", id)` or `("company", id)`, linked to what it mentions."""
    kind, subject_id = subject
    params = {
        "workspace_id": workspace_id,
        "author_id": author_id,
        "contact_id": subject_id if kind == "contact" else None,
        "company_id": subject_id if kind == "company" else None,
        "body": body,
        "now": now,
    }
    note_id = (await _rows(conn, "note_insert", params))[0]["id"]
    await link_mentions(conn, author_id, note_id, body, own_contact=params["contact_id"])
    return note_id


async def update_note(
    conn: Conn, note_id: int, *, author_id: int, body: str, own_contact: int | None, now: datetime
) -> None:
    await conn.execute(SQL["note_update"], {"note_id": note_id, "body": body, "now": now})
    await link_mentions(conn, author_id, note_id, body, own_contact=own_contact)


async def delete_note(conn: Conn, note_id: int) -> None:
    await conn.execute(SQL["note_delete"], {"note_id": note_id})


async def link_mentions(
    conn: Conn, user_id: int, note_id: int, body: str, *, own_contact: int | None
) -> list[int]:
    """Link the note to each contact of the user's that a handle names unambiguously."""
    found = await mentioned(conn, user_id, mentions.handles(body))
    ids = sorted({i for i in found if i != own_contact})
    await conn.execute(SQL["mentions_replace"], {"note_id": note_id, "contact_ids": ids})
    return ids


async def mentioned(conn: Conn, user_id: int, handles: list[str]) -> list[int]:
    """The contacts the handles name; a handle that fits several contacts names none."""
    if not handles:
        return []
    rows = await _rows(conn, "mention_candidates", {"user_id": user_id, "handles": handles})
    by_handle: dict[str, list[int]] = {}
    for row in rows:
        by_handle.setdefault(row["handle"], []).append(row["id"])
    return [ids[0] for ids in by_handle.values() if len(set(ids)) == 1]


async def notes_for_contact(conn: Conn, contact_id: int, *, limit: int = 500) -> list[Note]:
    """Notes about the contact or mentioning it, newest first."""
    params = {"contact_id": contact_id, "limit": limit}
    return [Note.from_row(r) for r in await _rows(conn, "notes_for_contact", params)]


async def notes_for_company(conn: Conn, company_id: int, *, limit: int = 500) -> list[Note]:
    params = {"company_id": company_id, "limit": limit}
    return [Note.from_row(r) for r in await _rows(conn, "notes_for_company", params)]
