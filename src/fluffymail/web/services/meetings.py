"""Meetings for the web app: a contact's meetings (scoped to the caller) and importing an .ics
file (stored in one transaction with the analysis it asks for)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.calendar import repo as calendar_repo
from fluffymail.crm.calendar import service as calendar_service
from fluffymail.crm.calendar.models import ContactMeeting
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.errors import FluffyMailError
from fluffymail.integrations.calendar.ics import IcsError, read_ics
from fluffymail.jobs import analyze_relationships
from fluffymail.queue import JobQueue
from fluffymail.web.services.contacts import ContactNotFound, db_now
from fluffymail.web.services.messages import fetch_one

__all__ = [
    "ContactMeeting",
    "IcsImported",
    "IcsRefused",
    "contact_meetings",
    "import_ics",
    "meetings_between",
]


class IcsRefused(FluffyMailError):
    """The file is not an iCalendar file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IcsImported:
    events: int
    stored: int
    removed: int
    skipped: int
    contacts_created: int


async def contact_meetings(
    pool: AsyncConnectionPool, user_id: int, contact_id: int, *, limit: int
) -> list[ContactMeeting]:
    """The contact's meetings, newest first; `ContactNotFound` for another user's contact."""
    params = {"id": contact_id, "user_id": user_id}
    async with pool.connection() as conn:
        if await fetch_one(conn, "contact_get", params) is None:
            raise ContactNotFound(f"no contact {contact_id}")
        return await calendar_repo.contact_meetings(conn, user_id, contact_id, limit=limit)


async def meetings_between(
    pool: AsyncConnectionPool,
    user_id: int,
    contact_id: int,
    *,
    before: datetime | None,
    since: datetime | None,
    limit: int = 200,
) -> list[ContactMeeting]:
    """The contact's meetings started in [since, before) (either end open), for a timeline page."""
    async with pool.connection() as conn:
        return await calendar_repo.contact_meetings(
            conn, user_id, contact_id, limit=limit, before=before, since=since
        )


async def import_ics(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    user_id: int,
    data: bytes,
    *,
    policy: Policy,
    now: datetime | None = None,
) -> IcsImported:
    """Store the file's meetings (re-importing updates them) and ask for a re-analysis.

    Raises:
        IcsRefused: not an iCalendar file, or too many meetings in it (nothing stored).
    """
    async with pool.connection() as conn:
        now = now or await db_now(conn)
    try:  # off the event loop: the file is untrusted, and expanding its rules takes time
        found = await asyncio.to_thread(read_ics, data, now=now)
    except IcsError as exc:
        raise IcsRefused(str(exc)) from exc
    if analyze_relationships.QUEUE not in await queue.get_queues():  # no worker has made it yet
        await queue.create_queue(analyze_relationships.QUEUE, **analyze_relationships.QUEUE_OPTIONS)
    async with pool.connection() as conn, conn.transaction():
        result = await calendar_service.store_meetings(
            conn, user_id=user_id, calendar=calendar_service.ICS_CALENDAR, connection_id=None,
            meetings=found.meetings, policy=policy, now=now,
        )  # fmt: skip
        removed = await calendar_service.remove_events(
            conn, user_id, calendar_service.ICS_CALENDAR, found.cancelled
        )
        if result.stored or removed or result.removed:
            await analyze_relationships.enqueue(queue, user_id, conn=conn, debounce=0)
    return IcsImported(
        events=len(found.meetings) + len(found.cancelled),
        stored=result.stored,
        removed=result.removed + removed,
        skipped=result.skipped,
        contacts_created=result.contacts_created,
    )
