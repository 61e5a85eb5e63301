"""The `sync-emails` job: read a connection's new mail page by page and store it.

Each batch of pages commits in ONE transaction with the cursor after it and the
`extract-contacts` jobs for its new messages (one job per 500 messages), so a crash repeats
at most one batch (≤ `BATCH_SIZE` messages). The end of a sync enqueues one `analyze-relationships` per
user (singleton key). `fluffymail import` calls `sync_connection` directly, in process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import Clock
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, ConnectionKind, IncomingMessage, MailError
from fluffymail.crm.messages.models import ParsedMessage
from fluffymail.crm.messages.parse import parse_message
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.files import MailSourceError
from fluffymail.integrations.mail.source import AuthError, MailSource, SourcePage
from fluffymail.jobs import extract_contacts
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = [
    "QUEUE",
    "Args",
    "SyncProgress",
    "SyncResult",
    "enqueue",
    "make_handler",
    "sync_connection",
]

QUEUE = "sync-emails"
ANALYZE_QUEUE = "analyze-relationships"
BATCH_SIZE = 500
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",  # one queued + one running sync per connection (singleton key)
    "retry_limit": 5,
    "retry_delay": 30,
    "retry_backoff": True,
    "retry_delay_max": 3600,
    "expire_in": "6 hours",  # a first import of a large mailbox is long; heartbeats prove life
}
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    """The job's payload. `full` ignores the stored cursor (re-reads all; dedup keeps it idempotent)."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncProgress:
    seen: int
    stored: int
    remaining: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    connection_id: int
    seen: int
    stored: int
    batches: int
    seconds: float
    status: str = "ok"

    def as_output(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seen": self.seen,
            "stored": self.stored,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
        }


ProgressCallback = Callable[[SyncProgress], None]


async def enqueue(queue: JobQueue, args: Args, *, conn: Any = None) -> int | None:
    """Send a sync for one connection; None when one is already queued for it."""
    return await queue.send(
        QUEUE, args.to_data(), conn=conn, singleton_key=f"connection-{args.connection_id}"
    )


def open_source(
    connection: Connection, settings: Settings, credentials: bytes | None
) -> MailSource:
    """The adapter for a connection's kind (the one place kinds dispatch)."""
    if connection.kind.is_file:
        return FileSource(connection.source)
    if connection.kind is ConnectionKind.IMAP:
        from fluffymail.integrations.mail.imap import ImapConfig, ImapSource

        if credentials is None:
            raise AuthError(reason="no IMAP credentials stored")
        box = secrets.SecretBox(secrets.load_key(settings))
        return ImapSource(ImapConfig(**box.decrypt_json(credentials)))
    raise MailError(f"no mail source for connection kind {connection.kind!s} yet")


async def sync_connection(
    *,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection_id: int,
    clock: Clock,
    settings: Settings | None = None,
    source: MailSource | None = None,
    full: bool = False,
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
    parser: Executor | None = None,
) -> SyncResult:
    """Sync one connection from its cursor to the end of its source.

    Raises:
        AuthError: credentials refused; the connection is marked `needs_reauth`.
        MailError: unknown connection or kind; other errors mark it `failed` and propagate.
    """
    connection = await _start(pool, connection_id, clock)
    started = clock.monotonic()
    try:
        if source is None:
            source = await _open(pool, connection, settings)
        cursor = None if full else connection.cursor
        seen = stored = batches = 0
        async for batch, page_seen, page_stored in _pipeline(
            pool, queue, connection, source.pages(cursor), batch_size, clock, parser
        ):
            seen, stored, batches = seen + page_seen, stored + page_stored, batches + 1
            if on_progress is not None:
                on_progress(SyncProgress(seen=seen, stored=stored, remaining=batch[-1].remaining))
        await _finish(pool, queue, connection, clock)
    except AuthError as exc:
        await _fail(pool, connection, clock, exc.reason, needs_reauth=True)
        raise
    except BaseException as exc:
        await _fail(pool, connection, clock, f"{type(exc).__name__}: {exc}")
        raise
    result = SyncResult(
        connection_id=connection.id,
        seen=seen,
        stored=stored,
        batches=batches,
        seconds=clock.monotonic() - started,
    )
    log.info(
        "mail synced",
        extra={"action": "mail.synced", **result.as_output(), "connection_id": connection.id},
    )
    return result


async def _start(pool: AsyncConnectionPool, connection_id: int, clock: Clock) -> Connection:
    async with pool.connection() as conn:
        connection = await mail_repo.get_connection(conn, connection_id)
        if connection is None:
            raise MailError(f"no connection {connection_id}")
        await mail_repo.mark_sync_started(conn, connection_id, clock.now())
    return connection


async def _open(
    pool: AsyncConnectionPool, connection: Connection, settings: Settings | None
) -> MailSource:
    credentials = None
    if not connection.kind.is_file:
        async with pool.connection() as conn:
            credentials = await mail_repo.get_credentials(conn, connection.id)
    if settings is None and not connection.kind.is_file:
        raise MailError("settings are needed to decrypt credentials")
    return open_source(connection, settings or Settings(), credentials)


async def _pipeline(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection: Connection,
    pages: AsyncIterator[SourcePage],
    batch_size: int,
    clock: Clock,
    parser: Executor | None,
) -> AsyncIterator[tuple[list[SourcePage], int, int]]:
    """Store batch N while batch N+1 is parsed in a thread: parsing is CPU in Python, storing
    mostly waits on PostgreSQL, so the two overlap. Batches still commit strictly in order."""
    storing: asyncio.Task[tuple[int, int]] | None = None
    previous: list[SourcePage] = []
    try:
        async for batch in _batches(pages, batch_size):
            parsed = await _parse(batch, parser)
            if storing is not None:
                yield previous, *await storing
            storing = asyncio.create_task(
                _store_batch(pool, queue, connection, batch, parsed, clock)
            )
            previous = batch
        if storing is not None:
            yield previous, *await storing
            storing = None
    finally:
        if storing is not None and not storing.done():
            storing.cancel()
            with contextlib.suppress(BaseException):
                await storing


async def _parse(batch: Sequence[SourcePage], parser: Executor | None) -> list[IncomingMessage]:
    """Parse a batch off the event loop: in `parser` (e.g. a one-process pool, so parsing
    runs truly in parallel with storing) or else in a thread."""
    mails = [mail for page in batch for mail in page.mails]
    raws = [mail.raw for mail in mails]
    if parser is None:
        parsed = await asyncio.to_thread(parse_all, raws)
    else:
        parsed = await asyncio.get_running_loop().run_in_executor(parser, parse_all, raws)
    return [
        IncomingMessage(
            folder=mail.folder,
            source_id=mail.source_id,
            parsed=message,
            provider_thread_id=mail.thread_id,
        )
        for mail, message in zip(mails, parsed, strict=True)
    ]


def parse_all(raws: Sequence[bytes]) -> list[ParsedMessage]:
    """`parse_message` over a batch (a module-level function, so process pools can run it)."""
    return [parse_message(raw) for raw in raws]


async def _batches(
    pages: AsyncIterator[SourcePage], batch_size: int
) -> AsyncIterator[list[SourcePage]]:
    """Consecutive pages joined until `batch_size` mails; a page with folder changes
    (resync, deletions) starts a new batch so its changes apply before its mail is stored."""
    batch: list[SourcePage] = []
    count = 0
    async for page in pages:
        if batch and _changes_folder(page):
            yield batch
            batch, count = [], 0
        batch.append(page)
        count += len(page.mails)
        if count >= batch_size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _changes_folder(page: SourcePage) -> bool:
    return page.resync or bool(page.deleted_ids) or page.present_ids is not None


async def _store_batch(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection: Connection,
    batch: Sequence[SourcePage],
    messages: Sequence[IncomingMessage],
    clock: Clock,
) -> tuple[int, int]:
    """Store the parsed batch, its cursor and its follow-up jobs in one transaction."""
    now = clock.now()
    async with pool.connection() as conn, conn.transaction():
        await _apply_folder_changes(conn, connection.id, batch[0])
        stored = await mail_repo.store_messages(
            conn,
            user_id=connection.user_id,
            connection_id=connection.id,
            messages=messages,
            now=now,
        )
        await mail_repo.save_cursor(conn, connection.id, batch[-1].cursor, now)
        if stored.new_message_ids:  # batched: one extraction job per 500 messages
            jobs = extract_contacts.batches(stored.new_message_ids)
            await queue.insert(extract_contacts.QUEUE, jobs, conn=conn)
        await mail_repo.record_progress(
            conn,
            connection.id,
            seen=stored.seen,
            stored=len(stored.new_message_ids),
            remaining=batch[-1].remaining,
        )
    return stored.seen, len(stored.new_message_ids)


async def _apply_folder_changes(conn: Any, connection_id: int, page: SourcePage) -> None:
    if page.resync:
        await mail_repo.forget_folder_sources(conn, connection_id, page.folder, mode="all")
    if page.deleted_ids:
        await mail_repo.forget_folder_sources(
            conn, connection_id, page.folder, mode="listed", source_ids=page.deleted_ids
        )
    if page.present_ids is not None:
        await mail_repo.forget_folder_sources(
            conn, connection_id, page.folder, mode="unlisted", source_ids=sorted(page.present_ids)
        )


async def _finish(
    pool: AsyncConnectionPool, queue: JobQueue, connection: Connection, clock: Clock
) -> None:
    async with pool.connection() as conn, conn.transaction():
        await mail_repo.mark_sync_finished(conn, connection.id, clock.now())
        await queue.send(
            ANALYZE_QUEUE,
            {"user_id": connection.user_id},
            conn=conn,
            singleton_key=f"user-{connection.user_id}",
        )


async def _fail(
    pool: AsyncConnectionPool,
    connection: Connection,
    clock: Clock,
    error: str,
    *,
    needs_reauth: bool = False,
) -> None:
    try:
        async with pool.connection() as conn:
            await mail_repo.mark_sync_failed(
                conn, connection.id, error=error, now=clock.now(), needs_reauth=needs_reauth
            )
    except Exception:  # the original error matters more; the status is best effort
        log.exception("could not record sync failure", extra={"action": "mail.sync_status"})
    log.warning(
        "mail sync failed",
        extra={
            "action": "mail.sync_failed",
            "connection_id": connection.id,
            "needs_reauth": needs_reauth,
            "error": error,
        },
    )


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """The queue handler: permanent failures (bad credentials, missing files) complete the
    job with that status instead of retrying; anything else raises and is retried."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        started = time.monotonic()
        try:
            result = await sync_connection(
                pool=deps.pool,
                queue=deps.queue,
                connection_id=args.connection_id,
                clock=clock,
                settings=deps.settings,
                full=args.full,
            )
        except AuthError as exc:
            return {"status": "needs_reauth", "reason": exc.reason}
        except MailSourceError as exc:
            return {"status": "failed", "reason": str(exc)}
        output = result.as_output()
        output["handler_seconds"] = round(time.monotonic() - started, 3)
        return output

    return handle
