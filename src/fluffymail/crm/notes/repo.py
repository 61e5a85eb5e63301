"""The only module that runs `crm/notes/sql/*.sql`: notes, their mentions, and reading them.

Every function takes the caller's connection (and so its transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.notes import mentions
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.notes")
Conn = psycopg.AsyncConnection[Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BYTES = 100_000
"""The longest note, in UTF-8 bytes (0018_notes_tags_activity.sql checks it too)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    id: int
    label: str


Reason = Literal["ambiguous", "unknown", "hidden"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A contact a mention could mean."""

    id: int
    label: str
    hidden: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Unlinked:
    """A mention that linked no one: `ambiguous` (it fits several contacts, named in
    `contacts`), `unknown` (no contact), or `hidden` (only contacts the user hid)."""

    mention: str  # as written, with its @: "@Mike"
    reason: Reason
    contacts: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Linked:
    """What a note's mentions linked, and those that linked no one."""

    ids: tuple[int, ...]
    unlinked: tuple[Unlinked, ...]


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
    unlinked: tuple[Unlinked, ...] = ()  # known only just after writing it

    @property
    def edited(self) -> bool:
        return self.updated_on > self.created_on

    @property
    def version(self) -> str:
        """A new value at every edit: the note's ETag, sent back as If-Match (or the edit
        form's `version`) so that a change is made only to the text its writer saw."""
        micros = (self.updated_on - EPOCH) // timedelta(microseconds=1)
        return f'"{self.id}-{micros}"'

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


async def lock_note(conn: Conn, note_id: int) -> None:
    """Hold the note until the caller's transaction ends (an edit or a deletion)."""
    await conn.execute(SQL["note_lock"], {"note_id": note_id})


async def insert_note(
    conn: Conn,
    *,
    workspace_id: int,
    author_id: int,
    subject: tuple[str, int],
    body: str,
    now: datetime,
) -> tuple[int, Linked]:
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
    linked = await link_mentions(conn, author_id, note_id, body, own_contact=params["contact_id"])
    return note_id, linked


async def update_note(
    conn: Conn, note_id: int, *, author_id: int, body: str, own_contact: int | None, now: datetime
) -> Linked:
    await conn.execute(SQL["note_update"], {"note_id": note_id, "body": body, "now": now})
    return await link_mentions(conn, author_id, note_id, body, own_contact=own_contact)


async def delete_note(conn: Conn, note_id: int) -> None:
    await conn.execute(SQL["note_delete"], {"note_id": note_id})


async def link_mentions(
    conn: Conn, user_id: int, note_id: int, body: str, *, own_contact: int | None
) -> Linked:
    """Link the note to each contact of the user's that a mention names unambiguously; say
    which mentions linked no one, and why."""
    linked = await resolve(conn, user_id, mentions.found(body))
    ids = sorted({i for i in linked.ids if i != own_contact})
    await conn.execute(SQL["mentions_replace"], {"note_id": note_id, "contact_ids": ids})
    return Linked(ids=tuple(ids), unlinked=linked.unlinked)


async def resolve(conn: Conn, user_id: int, written: list[mentions.Written]) -> Linked:
    """The contacts the mentions name: for each, the longest phrase that names any contact
    decides (one visible contact: linked; several: ambiguous; only hidden ones: hidden)."""
    if not written:
        return Linked(ids=(), unlinked=())
    params = {"user_id": user_id, "keys": mentions.keys(written)}
    by_key: dict[str, list[Candidate]] = {}
    for row in await _rows(conn, "mention_candidates", params):
        by_key.setdefault(row["key"], []).append(
            Candidate(id=row["id"], label=row["label"], hidden=row["hidden"])
        )
    ids: list[int] = []
    unlinked: list[Unlinked] = []
    for mention in written:
        match _decide(mention, by_key):
            case int(contact_id):
                ids.append(contact_id)
            case Unlinked() as problem:
                unlinked.append(problem)
    return Linked(ids=tuple(dict.fromkeys(ids)), unlinked=tuple(unlinked))


def _decide(mention: mentions.Written, by_key: dict[str, list[Candidate]]) -> int | Unlinked:
    """The contact the longest phrase of the mention that names anyone names, or why none."""
    for phrase in mention.phrases:
        found = by_key.get(mentions.key(phrase))
        if not found:
            continue
        visible = [c for c in found if not c.hidden]
        if len(visible) == 1:
            return visible[0].id
        reason: Reason = "ambiguous" if visible else "hidden"
        labels = tuple(c.label for c in visible or found)
        return Unlinked(mention="@" + phrase, reason=reason, contacts=labels)
    return Unlinked(mention="@" + mention.shortest, reason="unknown", contacts=())


async def notes_for_contact(conn: Conn, contact_id: int, *, limit: int = 500) -> list[Note]:
    """Notes about the contact or mentioning it, newest first."""
    params = {"contact_id": contact_id, "limit": limit}
    return [Note.from_row(r) for r in await _rows(conn, "notes_for_contact", params)]


async def notes_for_company(conn: Conn, company_id: int, *, limit: int = 500) -> list[Note]:
    params = {"company_id": company_id, "limit": limit}
    return [Note.from_row(r) for r in await _rows(conn, "notes_for_company", params)]
