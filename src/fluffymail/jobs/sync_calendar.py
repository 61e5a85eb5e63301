"""The `sync-calendar` job: read a Gmail connection's primary Google Calendar into meetings.

Sent by each `sync-emails` run of a Gmail connection that finishes (so it follows the same
15-minute schedule, pauses with the connection and stops when it is deleted), singleton per
connection. Each page of events commits in one transaction with the meetings it stores and the
events it cancels; the sync token is saved with the last page, so a crash repeats the run from
the previous token (storing is idempotent). A full listing (first run, `full`, or Google's 410
Gone for an expired token) ends by deleting the meetings it did not list. Changed meetings ask
for a relationship analysis (scores and follow-ups). A grant without the calendar scope (a
connection made before calendars were read) completes with that status and the connection
shows "reconnect to read your calendar"; mail keeps syncing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import Clock
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.calendar import repo as calendar_repo
from fluffymail.crm.calendar import service as calendar_service
from fluffymail.crm.calendar.models import StoreResult
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.integrations.mail.source import AuthError
from fluffymail.jobs import analyze_relationships, kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue, UnknownQueueError

if TYPE_CHECKING:
    from fluffymail.integrations.calendar.google import GoogleCalendarSource

__all__ = ["NO_SCOPE", "QUEUE", "QUEUE_OPTIONS", "Args", "enqueue", "make_handler", "sync_calendar"]

QUEUE = kinds.SYNC_CALENDAR
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",  # one queued + one running calendar sync per connection
    "retry_limit": 5,
    "retry_delay": 30,
    "retry_backoff": True,
    "retry_delay_max": 3600,
    "expire_in": "1 hour",
}
NO_SCOPE = "calendar not shared: reconnect this Gmail account to let FluffyMail read your calendar"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    """`full` ignores the stored sync token (lists every event again, then sweeps)."""

    connection_id: int
    user_id: int
    full: bool = False

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Args:
        return cls(
            connection_id=int(data["connection_id"]),
            user_id=int(data["user_id"]),
            full=bool(data.get("full", False)),
        )

    def to_data(self) -> dict[str, Any]:
        return {"connection_id": self.connection_id, "user_id": self.user_id, "full": self.full}


async def enqueue(queue: JobQueue, args: Args, *, conn: Any = None) -> int | None:
    """Send a calendar sync for one connection (None: one is queued already, or this
    deployment runs no calendar queue)."""
    try:
        return await queue.send(
            QUEUE, args.to_data(), conn=conn, singleton_key=f"calendar-{args.connection_id}"
        )
    except UnknownQueueError:
        return None


async def sync_calendar(
    *,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection_id: int,
    clock: Clock,
    settings: Settings,
    source: GoogleCalendarSource | None = None,
    full: bool = False,
) -> dict[str, Any]:
    """Sync one connection's calendar from its sync token; the job's output."""
    async with pool.connection() as conn:
        state = await calendar_repo.calendar_state(conn, connection_id)
    if state is None:
        return {"status": "gone"}
    if state.kind != "gmail" or state.inactive:
        return {"status": "skipped"}
    opened = source is None
    try:
        source = source or await _open(pool, connection_id, settings)
        before = source.token.access_token
        try:
            totals = await _run(pool, queue, state, source, clock, full)
        finally:
            if opened and source.token.access_token != before:
                await _save_token(pool, connection_id, source, settings)
    except AuthError as exc:
        error = NO_SCOPE if _is_scope(exc) else exc.reason
        async with pool.connection() as conn:
            await calendar_repo.finish_sync(
                conn, connection_id, cursor=None, error=error, now=clock.now()
            )
        return {"status": "no_calendar_access" if _is_scope(exc) else "needs_reauth",
                "reason": error}  # fmt: skip
    output = {"status": "ok", **totals.as_output()}
    log.info("calendar synced", extra={"action": "calendar.synced", "connection_id": connection_id, **output})  # fmt: skip
    return output


def _is_scope(exc: AuthError) -> bool:
    from fluffymail.integrations.calendar.google import NoCalendarAccess

    return isinstance(exc, NoCalendarAccess)


async def _run(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    state: calendar_repo.CalendarState,
    source: GoogleCalendarSource,
    clock: Clock,
    full: bool,
) -> StoreResult:
    calendar = calendar_service.google_calendar(state.connection_id)
    token = None if full else (state.cursor or {}).get("sync_token")
    policy = Policy(state.contact_policy)
    totals, seen = StoreResult(), set[str]()
    async for page in source.pages(token):
        async with pool.connection() as conn, conn.transaction():
            now = clock.now()
            stored = await calendar_service.store_meetings(
                conn, user_id=state.user_id, calendar=calendar, connection_id=state.connection_id,
                meetings=page.meetings, policy=policy, now=now,
            )  # fmt: skip
            removed = await calendar_service.remove_events(
                conn, state.user_id, calendar, page.cancelled
            )
            seen |= {m.event_id for m in page.meetings}
            if page.sync_token is not None:
                if page.full:
                    removed += await calendar_service.sweep(conn, state.user_id, calendar, seen)
                await calendar_repo.finish_sync(
                    conn, state.connection_id, cursor={"sync_token": page.sync_token},
                    error=None, now=now,
                )  # fmt: skip
            if stored.stored or removed:
                await analyze_relationships.enqueue(queue, state.user_id, conn=conn)
        totals.stored += stored.stored
        totals.removed += stored.removed + removed
        totals.skipped += stored.skipped
        totals.contacts_created += stored.contacts_created
    return totals


async def _open(
    pool: AsyncConnectionPool, connection_id: int, settings: Settings
) -> GoogleCalendarSource:
    from fluffymail.integrations.calendar.google import CalendarConfig, GoogleCalendarSource
    from fluffymail.jobs.gmail_grant import gmail_token

    async with pool.connection() as conn:
        credentials = await mail_repo.get_credentials(conn, connection_id)
    if credentials is None:
        raise AuthError(reason="no Gmail credentials stored; reconnect")
    stored = secrets.open_box(settings).decrypt_json(credentials)
    config = CalendarConfig(
        api_endpoint=settings.calendar_api_endpoint, token_uri=settings.gmail_token_uri
    )
    return GoogleCalendarSource(config, gmail_token(stored, settings))


async def _save_token(
    pool: AsyncConnectionPool, connection_id: int, source: GoogleCalendarSource, settings: Settings
) -> None:
    """Keep the access token the client refreshed, as the mail sync does (one refresh serves
    both until it expires)."""
    from fluffymail.jobs.gmail_grant import gmail_credentials

    box = secrets.open_box(settings)
    async with pool.connection() as conn:
        await mail_repo.set_credentials(
            conn, connection_id, box.encrypt_json(gmail_credentials(source.token))
        )


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """The queue handler: missing scope or refused credentials complete the job with that
    status; anything else raises and is retried."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        return await sync_calendar(
            pool=deps.pool, queue=deps.queue, connection_id=args.connection_id, clock=clock,
            settings=deps.settings, full=args.full,
        )  # fmt: skip

    return handle
