"""Notes on the user's contacts and companies: write, edit and delete (each logged in the
activity log), list, and the contact timeline with notes and meetings placed between the
messages.

Every query carries the caller's user id and workspace: another user's note looks exactly like
a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.corrections import repo as fix_repo
from fluffymail.crm.notes import repo as notes_repo
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import activity, meetings
from fluffymail.web.services import contact_views as views
from fluffymail.web.services.companies import CompanyNotFound
from fluffymail.web.services.contacts import ContactNotFound, db_now, timeline
from fluffymail.web.services.live_contacts import SubjectMerged, require_live_contacts
from fluffymail.web.services.messages import Conn, fetch_one

Note = notes_repo.Note
SubjectKind = Literal["contact", "company"]
EXCERPT = 80


class NoteNotFound(FluffyMailError):
    """No such note."""


class NoteRefused(FluffyMailError):
    """The note cannot be saved."""


class NoteChanged(FluffyMailError):
    """The note was changed after the version the edit was made on."""


def check_body(body: str) -> str:
    """The note's text; `NoteRefused` when blank or over the size limit."""
    if not body.strip():
        raise NoteRefused("a note needs some text")
    if len(body.encode("utf-8")) > notes_repo.MAX_BYTES:
        raise NoteRefused(f"a note can be at most {notes_repo.MAX_BYTES:,} bytes")
    if "\x00" in body:
        raise NoteRefused("a note cannot hold NUL characters")
    return body


def _excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


async def require_subject(conn: Conn, user_id: int, kind: SubjectKind, subject_id: int) -> None:
    """`ContactNotFound` / `CompanyNotFound` unless the contact or company is the user's."""
    params = {"id": subject_id, "user_id": user_id}
    if kind == "contact":
        if await fetch_one(conn, "owned_contact", params) is None:
            raise ContactNotFound(f"no contact {subject_id}")
    elif await fetch_one(conn, "owned_company", params) is None:
        raise CompanyNotFound(f"no company {subject_id}")


async def require_live_subject(
    conn: Conn, user_id: int, kind: SubjectKind, subject_id: int
) -> None:
    """`require_subject` for a write about it: the contact or company is locked until the
    caller's transaction ends (a merge waits for the write, then carries it along), and one
    merged into another answers `SubjectMerged` naming that one (QA: a note written on a
    contact merged away stayed there, shown on neither page)."""
    if kind == "contact":
        await _live_contact(conn, user_id, subject_id)
    else:
        await _live_company(conn, user_id, subject_id)


async def _live_contact(conn: Conn, user_id: int, contact_id: int) -> None:
    await require_live_contacts(conn, user_id, [contact_id])


async def _live_company(conn: Conn, user_id: int, company_id: int) -> None:
    company = await fix_repo.lock_company(conn, user_id, company_id=company_id)
    if company is None:
        raise CompanyNotFound(f"no company {company_id}")
    if (into_id := company.merged_into_id) is None:
        return
    into = await fetch_one(conn, "company_get", {"id": into_id, "user_id": user_id})
    label = into["name"] if into else "another company"
    raise SubjectMerged(
        f"{company.name} (company {company_id}) was merged into {label} (company {into_id});"
        " use that one"
    )


async def require(
    pool: AsyncConnectionPool, user_id: int, kind: SubjectKind, subject_id: int
) -> None:
    async with pool.connection() as conn:
        await require_subject(conn, user_id, kind, subject_id)


async def list_notes(
    pool: AsyncConnectionPool, user_id: int, kind: SubjectKind, subject_id: int
) -> list[Note]:
    """Notes about the contact (or mentioning it) or the company, newest first."""
    async with pool.connection() as conn:
        await require_subject(conn, user_id, kind, subject_id)
        if kind == "contact":
            return await notes_repo.notes_for_contact(conn, subject_id)
        return await notes_repo.notes_for_company(conn, subject_id)


async def add_note(
    pool: AsyncConnectionPool, user_id: int, kind: SubjectKind, subject_id: int, body: str
) -> Note:
    body = check_body(body)
    async with pool.connection() as conn, conn.transaction():
        await require_live_subject(conn, user_id, kind, subject_id)
        workspace_id = await activity.workspace_of(conn, user_id)
        note_id, linked = await notes_repo.insert_note(
            conn,
            workspace_id=workspace_id,
            author_id=user_id,
            subject=(kind, subject_id),
            body=body,
            now=await db_now(conn),
        )
        note = replace(await _get(conn, user_id, note_id), unlinked=linked.unlinked)
        await _log(conn, user_id, note, "note.added")
    return note


def _check_version(note: Note, expected: str | None) -> None:
    """`NoteChanged` unless the note is at a version `expected` names (an If-Match value: one
    version, several separated by commas, or `*`); None checks nothing."""
    if expected is None or expected.strip() == "*":
        return
    if note.version not in (v.strip() for v in expected.split(",")):
        saved = note.updated_on.astimezone(UTC)
        raise NoteChanged(
            f"the note was changed after you opened it (saved at {saved:%H:%M:%S} UTC, in"
            " another tab, window or app); nothing was changed: reload it and try again"
        )


async def edit_note(
    pool: AsyncConnectionPool, user_id: int, note_id: int, body: str, *, expected: str | None = None
) -> Note:
    """The note's new text; with `expected` (the version the text was written on), only while
    the note is still at it, else `NoteChanged` (QA: of two edits of one note, the later
    silently replaced the other)."""
    body = check_body(body)
    async with pool.connection() as conn, conn.transaction():
        await notes_repo.lock_note(conn, note_id)
        before = await _get(conn, user_id, note_id)
        _check_version(before, expected)
        linked = await notes_repo.update_note(
            conn,
            note_id,
            author_id=user_id,
            body=body,
            own_contact=before.contact_id,
            now=await db_now(conn),
        )
        note = replace(await _get(conn, user_id, note_id), unlinked=linked.unlinked)
        await _log(conn, user_id, note, "note.edited")
    return note


async def delete_note(
    pool: AsyncConnectionPool, user_id: int, note_id: int, *, expected: str | None = None
) -> Note:
    """Delete the note; with `expected`, only while it is at that version (`NoteChanged`)."""
    async with pool.connection() as conn, conn.transaction():
        await notes_repo.lock_note(conn, note_id)
        note = await _get(conn, user_id, note_id)
        _check_version(note, expected)
        await notes_repo.delete_note(conn, note_id)
        await _log(conn, user_id, note, "note.deleted")
    return note


async def get_note(pool: AsyncConnectionPool, user_id: int, note_id: int) -> Note:
    async with pool.connection() as conn:
        return await _get(conn, user_id, note_id)


async def _get(conn: Conn, user_id: int, note_id: int) -> Note:
    note = await notes_repo.get_note(conn, user_id, note_id)
    if note is None:
        raise NoteNotFound(f"no note {note_id}")
    return note


async def _log(conn: Conn, user_id: int, note: Note, action: str) -> None:
    subject: activity.Subject = (
        ("contact", note.contact_id) if note.contact_id else ("company", note.company_id or 0)
    )
    await activity.log(conn, user_id, subject, action, note_id=note.id, text=_excerpt(note.body))


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One line of a contact's timeline: a message, a note or a meeting."""

    at: datetime | None
    message: views.TimelineItem | None = None
    note: Note | None = None
    meeting: meetings.ContactMeeting | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MixedTimeline:
    """A page of the contact's messages with the notes written in the same stretch of time."""

    entries: tuple[Entry, ...]
    total: int  # messages
    notes: int
    offset: int
    meetings: int = 0
    next_offset: int | None


async def contact_timeline(
    pool: AsyncConnectionPool, user_id: int, contact_id: int, *, limit: int, offset: int
) -> MixedTimeline:
    """Newest first. Each page shows the notes and meetings dated between its oldest message
    and the previous page's oldest one (the first page also the newer ones, the last the
    older)."""
    back = 1 if offset else 0
    page = await timeline(pool, user_id, contact_id, limit=limit + back, offset=offset - back)
    items = list(page.items)
    upper = items.pop(0).date if back and items else None
    more = offset + limit < page.total
    lower = items[-1].date if more and items else None
    notes = await list_notes(pool, user_id, "contact", contact_id)
    shown = [
        n
        for n in notes
        if (not offset or (upper is not None and n.created_on < upper))
        and (not more or (lower is not None and n.created_on >= lower))
    ]
    met = await meetings.meetings_between(
        pool, user_id, contact_id, before=upper if offset else None, since=lower if more else None
    )
    entries = [Entry(at=m.date, message=m) for m in items]
    entries += [Entry(at=n.created_on, note=n) for n in shown]
    entries += [Entry(at=m.starts_on, meeting=m) for m in met]
    entries.sort(key=lambda e: (e.at is not None, e.at or datetime.min), reverse=True)
    return MixedTimeline(
        entries=tuple(entries),
        total=page.total,
        notes=len(notes),
        meetings=len(met),
        offset=offset,
        next_offset=offset + limit if more else None,
    )
