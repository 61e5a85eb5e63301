"""The `sync-emails` job: read a connection's new mail page by page and store it.

Each batch of pages commits in ONE transaction with the cursor after it (only the folders it
moved: one `crm.sync_cursors` row each, updated in place) and the
`extract-contacts` jobs for its new messages (one job per 500 messages), so a crash repeats
at most one batch (≤ `BATCH_SIZE` messages) of writes; nothing is stored twice. Parsing in
a child process (a worker's parser process, `fluffymail import`'s pool) runs `PARSE_AHEAD`
batches ahead of the one being written, so a crash re-reads at most three; parsing in a
thread (no parser given) runs one ahead, two re-read. The end of a sync enqueues one
`analyze-relationships` per user (singleton key).
Mail deleted on the server (an IMAP expunge, a Gmail `messagesDeleted` record, a message gone
from a fully re-read file) loses its folder link in the batch that reports it, which also
records it (`crm.message_unlinked`); at the end of the sync (or of a failed one; after a
killed worker, of the connection's next sync) each recorded message no folder of any
connection holds any more is deleted, its contacts recounted, summaries citing it marked
stale and re-summarised, and the relationships re-analysed (see crm/mail/README.md,
"Deletions").
A paused connection, or one being deleted, is skipped; one paused or marked for deletion while
its sync reads stops after the batch being stored (the cursor keeps its place: resuming
continues from there), since a first import can read for hours. A Gmail sync first records the
account's send-as addresses as the user's aliases and saves refreshed access tokens; a Gmail
sync that finishes sends the connection's `sync-calendar` job (same schedule as its mail).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import Clock
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.mail import cursors
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import (
    Connection,
    ConnectionKind,
    MailError,
    SyncStatus,
)
from fluffymail.crm.mail.prepare import PreparedMessage, prepare_all
from fluffymail.crm.webhooks import repo as webhooks_repo
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.files import MailSourceError
from fluffymail.integrations.mail.source import (
    AuthError,
    Cursor,
    MailSource,
    SourcePage,
    TransientSourceError,
)
from fluffymail.jobs import (
    analyze_relationships,
    extract_contacts,
    index_messages,
    kinds,
    priorities,
    summarize_relationship,
    sync_calendar,
)
from fluffymail.jobs.deps import JobDeps
from fluffymail.jobs.gmail_grant import gmail_config, gmail_credentials, gmail_token
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.workflows import Group, Step, Workflows

if TYPE_CHECKING:  # the Google client libraries load only for Gmail connections
    from fluffymail.integrations.mail.gmail import GmailSource

__all__ = [
    "QUEUE",
    "Args",
    "SyncProgress",
    "SyncResult",
    "enqueue",
    "make_handler",
    "schedule_key",
    "sync_connection",
]

QUEUE = kinds.SYNC_EMAILS
EXTRACT_STEP, SYNC_STEP, ANALYZE_STEP = "extract", "sync", "analyze"  # the run's steps
MARK_STEP, INDEX_STEP, SEND_INDEX_STEP = "mark", "index", "send-index"  # ... and its search
BATCH_SIZE = 500
INTERRUPTED = "interrupted before the end; the next sync continues where this one stopped"
FILES_UNREADABLE = "the mail files could not be read: they are missing or hold no mail"
PARSE_AHEAD = 2  # batches parsed ahead of the one being stored, when parsing in a process
HEARTBEAT_SECONDS = 2.0  # how often the time of the server's last answer is written down
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
    deleted: int = 0  # messages that left the CRM: no folder of any connection holds them
    skipped_by_label: dict[str, int] = field(default_factory=dict)  # Takeout Spam, Trash, ...

    def as_output(self) -> dict[str, Any]:
        output: dict[str, Any] = {
            "status": self.status,
            "seen": self.seen,
            "stored": self.stored,
            "deleted": self.deleted,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
        }
        if self.skipped_by_label:
            output["skipped_by_label"] = self.skipped_by_label
        return output

    @classmethod
    def from_output(cls, output: dict[str, Any], connection_id: int) -> SyncResult:
        """Back from `as_output` (a run's recorded read step)."""
        return cls(
            connection_id=connection_id,
            seen=int(output.get("seen", 0)),
            stored=int(output.get("stored", 0)),
            batches=int(output.get("batches", 0)),
            seconds=float(output.get("seconds", 0.0)),
            status=str(output.get("status", "ok")),
            deleted=int(output.get("deleted", 0)),
            skipped_by_label=dict(output.get("skipped_by_label") or {}),
        )


ProgressCallback = Callable[[SyncProgress], None]
# Sends a stored batch's extract-contacts jobs in its transaction: to the queue, or into the
# extraction group of the sync's workflow run (`sync_workflow`).
ExtractionSender = Callable[[Any, list[dict[str, Any]]], Awaitable[Any]]


class MissingConnection(MailError):
    """The connection does not exist (any more)."""


def schedule_key(connection_id: int) -> str:
    """The key of a connection's 15-minute sync schedule (and of its jobs' singleton rule)."""
    return f"connection-{connection_id}"


async def enqueue(
    queue: JobQueue,
    args: Args,
    *,
    conn: Any = None,
    asked: bool = False,
    start_after: float | None = None,
) -> int | None:
    """Send a sync for one connection; None when one is already queued for it.

    `asked`: a person is waiting for it ("Sync now", a new connection), so it goes ahead of the
    background syncs of other connections; a background sync already queued for this
    connection is moved up instead of a second one being queued.
    """
    key = schedule_key(args.connection_id)
    priority = priorities.ASKED if asked else priorities.BACKGROUND
    job_id = await queue.send(
        QUEUE,
        args.to_data(),
        conn=conn,
        singleton_key=key,
        priority=priority,
        start_after=start_after,
    )
    if job_id is None and asked:
        await queue.promote(QUEUE, key, priority, conn=conn)
    return job_id


def open_source(
    connection: Connection, settings: Settings, credentials: bytes | None
) -> MailSource:
    """The adapter for a connection's kind (the one place kinds dispatch)."""
    if connection.kind.is_file:
        return FileSource(connection.source)
    if credentials is None:
        raise AuthError(reason=f"no {connection.kind!s} credentials stored; reconnect")
    stored = secrets.open_box(settings).decrypt_json(credentials)
    if connection.kind is ConnectionKind.IMAP:
        from fluffymail.integrations import net
        from fluffymail.integrations.mail.imap import IMAP_PORTS, ImapConfig, ImapSource

        if stored.get("folders") is not None:
            stored["folders"] = tuple(stored["folders"])
        policy = net.OutboundPolicy.from_settings(settings, ports=IMAP_PORTS)
        return ImapSource(ImapConfig(**stored), policy=policy)
    if connection.kind is ConnectionKind.GMAIL:
        from fluffymail.integrations.mail.gmail import GmailSource

        return GmailSource(gmail_config(settings), gmail_token(stored, settings))
    raise MailError(f"no mail source for connection kind {connection.kind!s}")


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
    send_extraction: ExtractionSender | None = None,
    analyse: bool = True,
) -> SyncResult:
    """Sync one connection from its cursor to the end of its source.

    `send_extraction`: where each batch's extraction jobs go (default: the extract-contacts
    queue). `analyse=False`: the end of the sync asks for no analysis (the sync's workflow
    run analyses once its extraction is done).

    Raises:
        AuthError: credentials refused; the connection is marked `needs_reauth`.
        MailError: unknown connection or kind; other errors mark it `failed` and propagate.
    """
    connection, skipped = await _start(pool, connection_id, clock)
    if skipped is not None:
        log.info(
            "sync skipped",
            extra={"action": "mail.sync_skipped", "connection_id": connection_id, "why": skipped},
        )
        return SyncResult(
            connection_id=connection_id, seen=0, stored=0, batches=0, seconds=0.0, status=skipped
        )
    started = clock.monotonic()
    activity = _Activity(clock)
    written = _Written(parts=cursors.split(connection.cursor))  # what the table holds
    heartbeat = asyncio.create_task(_heartbeat(pool, connection.id, activity))
    try:
        if source is None:
            source = await _open(pool, connection, settings)
        if hasattr(source, "on_activity"):  # a source that reports each answer (IMAP)
            source.on_activity = activity.answered
        if (gmail := _gmail_source(connection, source)) is not None:
            # the saver first: it compares against the token as it was before any request
            source = _TokenSaver(gmail, pool, connection.id, settings or Settings())
            await _record_send_as(pool, connection, gmail, clock)
        cursor = None if full else connection.cursor
        seen = stored = batches = 0
        named: set[str] = set()
        pages = _watched(source.pages(cursor), activity, named)
        extraction = send_extraction or _queue_sender(queue)
        async for batch, page_seen, page_stored in _pipeline(
            pool, connection, pages, batch_size, clock, parser, written, extraction
        ):
            seen, stored, batches = seen + page_seen, stored + page_stored, batches + 1
            if on_progress is not None:
                on_progress(SyncProgress(seen=seen, stored=stored, remaining=batch[-1].remaining))
        status, deleted = "ok", 0
        if written.cut:  # paused or being deleted meanwhile: what is stored stays, no more
            status = await _stop(pool, queue, connection, clock, written)
        else:
            if cursor is None:  # read from scratch, to the end: a folder it never named is gone
                await _forget_unread_folders(pool, connection, named, written)
            # No ANALYZE here: the stored mail's statistics are refreshed by the stage that
            # reads it next, the analysis every stored batch leads to (`analyze_relationships`,
            # issue 19), not on the sync's own time and slot (issue 21).
            deleted = await _finish(pool, queue, connection, clock, analyse=analyse)
    except AuthError as exc:
        await _delete_unlinked(pool, queue, connection, clock, written)
        await _fail(pool, connection, clock, exc.reason, needs_reauth=True)
        await queue.unschedule(QUEUE, schedule_key(connection.id))  # until new credentials
        raise
    except asyncio.CancelledError:  # Ctrl-C, or a worker stopping: what committed stays
        await _delete_unlinked(pool, queue, connection, clock, written)
        await _fail(pool, connection, clock, INTERRUPTED)
        raise
    except BaseException as exc:
        await _delete_unlinked(pool, queue, connection, clock, written)
        raw = f"{type(exc).__name__}: {exc}"  # the log keeps it; the owner reads a sentence
        await _fail(pool, connection, clock, _recorded_error(connection, exc), detail=raw)
        raise
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    result = SyncResult(
        connection_id=connection.id,
        seen=seen,
        stored=stored,
        batches=batches,
        status=status,
        deleted=deleted,
        seconds=clock.monotonic() - started,
        skipped_by_label=dict(getattr(source, "skipped_by_label", None) or {}),
    )
    log.info(
        "mail synced",
        extra={"action": "mail.synced", **result.as_output(), "connection_id": connection.id},
    )
    return result


@dataclass(slots=True, kw_only=True)
class _Written:
    """What the sync's committed batches wrote: the cursor parts (so a batch writes only the
    folders it moved) and how many messages they recorded as left in no folder; whether the
    connection was paused or marked for deletion when the last one committed (`stopping`), and
    whether mail read after that was left unstored for it (`cut`)."""

    parts: cursors.Parts
    unlinked: int = 0
    stopping: bool = False
    cut: bool = False


class _Activity:
    """When the source last answered and in which folder (set from the source's thread too)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.at: datetime | None = None
        self.folder: str | None = None

    def answered(self, folder: str | None) -> None:
        self.at, self.folder = self._clock.now(), folder or self.folder


async def _watched(
    pages: AsyncIterator[SourcePage], activity: _Activity, named: set[str]
) -> AsyncIterator[SourcePage]:
    """The source's pages; each one arriving is an answer from the server. `named` collects
    the folders they name."""
    async for page in pages:
        activity.answered(page.folder)
        named.add(page.folder)
        yield page


async def _forget_unread_folders(
    pool: AsyncConnectionPool, connection: Connection, named: set[str], written: _Written
) -> None:
    """Forget the mail of the connection's folders that a read from scratch did not name (a
    folder gone from a newer export, or from the server); the sync's end deletes what this
    left in no folder."""
    async with pool.connection() as conn, conn.transaction():
        left = await mail_repo.forget_unread_folders(conn, connection.id, sorted(named))
        await mail_repo.note_unlinked(conn, connection.user_id, connection.id, left)
    written.unlinked += len(left)


async def _heartbeat(pool: AsyncConnectionPool, connection_id: int, activity: _Activity) -> None:
    """Write down, every few seconds, when the server last answered: the connections page
    shows a sync whose server went silent as stalled, long before the read timeout."""
    written: tuple[datetime | None, str | None] = (None, None)
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        current = (activity.at, activity.folder)
        if current == written or activity.at is None:
            continue
        try:
            async with pool.connection() as conn:
                await mail_repo.record_activity(
                    conn, connection_id, at=activity.at, folder=activity.folder
                )
            written = current
        except Exception:  # progress display only: never fail the sync for it
            log.warning("could not record sync activity", extra={"action": "mail.activity"})


def _gmail_source(connection: Connection, source: MailSource) -> GmailSource | None:
    """`source` when it is a Gmail connection's API source (it then records send-as aliases
    and saves refreshed tokens); the Google libraries load only for Gmail connections."""
    if connection.kind is not ConnectionKind.GMAIL:
        return None
    from fluffymail.integrations.mail.gmail import GmailSource

    return source if isinstance(source, GmailSource) else None


async def _start(
    pool: AsyncConnectionPool, connection_id: int, clock: Clock
) -> tuple[Connection, str | None]:
    """The connection, marked syncing; or why it does not sync now: `skipped` (paused or being
    deleted) or `needs_reauth` (its credentials were refused: nothing logs in until new ones)."""
    async with pool.connection() as conn:
        connection = await mail_repo.get_connection(conn, connection_id)
        if connection is None:
            raise MissingConnection(f"no connection {connection_id}")
        if not await mail_repo.mark_sync_started(conn, connection_id, clock.now()):
            current = await mail_repo.get_connection(conn, connection_id) or connection
            refused = current.status is SyncStatus.NEEDS_REAUTH
            return connection, "needs_reauth" if refused else "skipped"
    return connection, None


async def _record_send_as(
    pool: AsyncConnectionPool, connection: Connection, source: GmailSource, clock: Clock
) -> None:
    """The account's send-as addresses become the user's aliases (source 'provider')."""
    addresses = await source.send_as_addresses()
    if not addresses:
        return
    async with pool.connection() as conn, conn.transaction():
        added = await contacts_repo.add_aliases(
            conn, connection.user_id, [(a, "provider", None) for a in addresses], clock.now()
        )
    if added:
        log.info(
            "gmail send-as aliases recorded",
            extra={"action": "mail.aliases", "connection_id": connection.id, "added": len(added)},
        )


class _TokenSaver:
    """Wraps a Gmail source: after each page (and at the end) a refreshed access token is
    saved, encrypted, so later syncs reuse it instead of refreshing again."""

    def __init__(
        self, source: GmailSource, pool: AsyncConnectionPool, connection_id: int, settings: Settings
    ) -> None:
        self._source = source
        self._pool = pool
        self._connection_id = connection_id
        self._settings = settings
        self._saved = source.token.access_token

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        try:
            async for page in self._source.pages(cursor):
                await self._save()
                yield page
        finally:
            await self._save()

    async def _save(self) -> None:
        token = self._source.token
        if token.access_token == self._saved:
            return
        box = secrets.open_box(self._settings)
        async with self._pool.connection() as conn:
            await mail_repo.set_credentials(
                conn, self._connection_id, box.encrypt_json(gmail_credentials(token))
            )
        self._saved = token.access_token


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
    connection: Connection,
    pages: AsyncIterator[SourcePage],
    batch_size: int,
    clock: Clock,
    parser: Executor | None,
    written: _Written,
    extraction: ExtractionSender,
) -> AsyncIterator[tuple[list[SourcePage], int, int]]:
    """Parse ahead while storing: the next batches are parsed (in `parser`, else a thread)
    while the one before them is written, so a slow batch on one leg does not stall the
    other. Batches commit strictly in order. When the source fails, the batches already read
    are still stored (their cursors are valid) before the error propagates."""
    ahead = PARSE_AHEAD if parser is not None else 0
    parsing: deque[tuple[list[SourcePage], asyncio.Task[list[PreparedMessage]]]] = deque()
    storing: asyncio.Task[tuple[int, int]] | None = None
    previous: list[SourcePage] = []

    async def store_next() -> tuple[list[SourcePage], int, int] | None:
        """Start storing the oldest parsed batch; the previous one's result, once stored."""
        nonlocal storing, previous
        batch, parse = parsing.popleft()
        parsed = await parse
        done = (previous, *await storing) if storing is not None else None
        if written.stopping:  # paused or being deleted: this batch is not stored
            storing, written.cut = None, True
            return done
        storing = asyncio.create_task(
            _store_batch(pool, connection, batch, parsed, clock, written, extraction)
        )
        previous = batch
        return done

    batches = _batches(pages, batch_size)
    source_error: Exception | None = None
    try:
        while not written.cut:
            try:
                batch = await anext(batches)
            except StopAsyncIteration:
                break
            except Exception as exc:  # re-raised below, once what was read is stored
                source_error = exc
                break
            parsing.append((batch, asyncio.create_task(_parse(batch, parser))))
            if len(parsing) > ahead and (done := await store_next()) is not None:
                yield done
        while parsing and not written.cut:
            if (done := await store_next()) is not None:
                yield done
        if storing is not None:
            yield previous, *await storing
            storing = None
    finally:
        for task in (storing, *(parse for _, parse in parsing)):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
    if source_error is not None:
        raise source_error


async def _parse(batch: Sequence[SourcePage], parser: Executor | None) -> list[PreparedMessage]:
    """Parse and prepare a batch off the event loop: in `parser` (e.g. a one-process pool, so
    parsing runs truly in parallel with storing) or else in a thread."""
    mails = [
        (mail.folder, mail.source_id, mail.raw, mail.thread_id)
        for page in batch
        for mail in page.mails
    ]
    if parser is None:
        return await asyncio.to_thread(prepare_all, mails)
    return await asyncio.get_running_loop().run_in_executor(parser, prepare_all, mails)


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


def _queue_sender(queue: JobQueue) -> ExtractionSender:
    async def send(conn: Any, jobs: list[dict[str, Any]]) -> Any:
        return await queue.insert_many(extract_contacts.QUEUE, jobs, conn=conn)

    return send


def _changes_folder(page: SourcePage) -> bool:
    return page.resync or bool(page.deleted_ids) or page.present_ids is not None


async def _store_batch(
    pool: AsyncConnectionPool,
    connection: Connection,
    batch: Sequence[SourcePage],
    messages: Sequence[PreparedMessage],
    clock: Clock,
    written: _Written,
    extraction: ExtractionSender,
) -> tuple[int, int]:
    """Store the parsed batch, its cursor, its follow-up jobs and the messages its folder
    changes left in no folder (deleted at the sync's end) in one transaction."""
    now = clock.now()
    parts = cursors.split(batch[-1].cursor)
    async with pool.connection() as conn, conn.transaction():
        left = await _apply_folder_changes(conn, connection.id, batch[0])
        await mail_repo.defer_search(conn)  # extract-contacts indexes them (0038)
        stored = await mail_repo.store_messages(
            conn,
            user_id=connection.user_id,
            connection_id=connection.id,
            messages=messages,
            now=now,
        )
        unlinked = [*left, *stored.unlinked]
        await mail_repo.note_unlinked(conn, connection.user_id, connection.id, unlinked)
        await mail_repo.save_cursor(
            conn,
            user_id=connection.user_id,
            connection_id=connection.id,
            change=cursors.change(written.parts, parts),
            now=now,
        )
        if stored.new_message_ids:  # batched: one extraction job per 500 messages
            await extraction(
                conn, extract_contacts.batches(stored.new_message_ids, connection.user_id)
            )
        stopping = await mail_repo.record_progress(
            conn,
            connection.id,
            seen=stored.seen,
            stored=len(stored.new_message_ids),
            remaining=batch[-1].remaining,
        )
    written.parts, written.stopping = parts, stopping
    written.unlinked += len(unlinked)
    return stored.seen, len(stored.new_message_ids)


async def _apply_folder_changes(conn: Any, connection_id: int, page: SourcePage) -> list[int]:
    """Forget the folder's provider ids the page drops; the messages left in no folder."""
    left: list[int] = []
    if page.resync:
        left += await mail_repo.forget_folder_sources(
            conn, connection_id, [page.folder], mode="all"
        )
    if page.deleted_ids:
        left += await mail_repo.forget_folder_sources(
            conn, connection_id, [page.folder], mode="listed", source_ids=page.deleted_ids
        )
    if page.present_ids is not None:
        left += await mail_repo.forget_folder_sources(
            conn, connection_id, [page.folder], mode="unlisted", source_ids=sorted(page.present_ids)
        )
    return left


async def _finish(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection: Connection,
    clock: Clock,
    *,
    analyse: bool,
) -> int:
    """Mark the sync finished, delete what no folder holds any more and ask for a re-analysis
    (unless the caller analyses), in one transaction; how many messages were deleted."""
    async with pool.connection() as conn, conn.transaction():
        await mail_repo.mark_sync_finished(conn, connection.id, clock.now())
        deleted = await _delete_messages(conn, queue, connection, clock)
        if analyse:
            await _send_analysis(conn, queue, connection)
        if connection.kind is ConnectionKind.GMAIL:
            args = sync_calendar.Args(connection_id=connection.id, user_id=connection.user_id)
            await sync_calendar.enqueue(queue, args, conn=conn)
    return deleted


async def _stop(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection: Connection,
    clock: Clock,
    written: _Written,
) -> str:
    """End a sync whose connection was paused or marked for deletion while it read: what its
    batches unlinked is deleted (as at a sync's end) and it is no longer syncing, nor failed;
    the next sync continues from the cursor. Why it stopped: 'paused' or 'deleting'."""
    await _delete_unlinked(pool, queue, connection, clock, written)
    async with pool.connection() as conn:
        return await mail_repo.mark_sync_stopped(conn, connection.id)


async def _delete_unlinked(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection: Connection,
    clock: Clock,
    written: _Written,
) -> None:
    """After a failed sync: what its committed batches unlinked is deleted now, not at the
    next sync. Best effort: the sync's own error matters more, and what is not deleted here
    stays recorded for the next sync's end."""
    if not written.unlinked:
        return
    try:
        async with pool.connection() as conn, conn.transaction():
            if await _delete_messages(conn, queue, connection, clock):
                await _send_analysis(conn, queue, connection)
    except Exception:
        log.exception(
            "could not delete unlinked messages",
            extra={"action": "mail.delete_failed", "connection_id": connection.id},
        )


async def _delete_messages(conn: Any, queue: JobQueue, connection: Connection, clock: Clock) -> int:
    """Delete the messages the connection's syncs left in no folder (recorded by their
    batches) that no folder of any connection holds now (a message re-found in another folder
    stays), recount their contacts, and mark stale (and re-summarise) the summaries that cited
    them; the number deleted."""
    unlinked = await mail_repo.take_unlinked(conn, connection.user_id, connection.id)
    deleted = await mail_repo.delete_unlinked_messages(conn, connection.user_id, unlinked)
    if not deleted.message_ids:
        return 0
    user_id = connection.user_id
    if deleted.contact_ids:
        await contacts_repo.recompute_counts(conn, deleted.contact_ids, clock.now())
    stale = await mail_repo.mark_summaries_stale(conn, user_id, deleted.message_ids)
    await summarize_relationship.enqueue_many(queue, user_id, stale, conn=conn)
    log.info(
        "deleted mail removed",
        extra={"action": "mail.deleted", "connection_id": connection.id,
               "messages": len(deleted.message_ids), "stale_summaries": len(stale)},
    )  # fmt: skip
    return len(deleted.message_ids)


async def _send_analysis(conn: Any, queue: JobQueue, connection: Connection) -> None:
    """Analyse the user's mail now: an analysis queued during the import for later (it re-runs
    every `analyze_debounce` while extraction goes on) must not hold this one back."""
    await analyze_relationships.hurry(queue, connection.user_id, conn=conn)


def _recorded_error(connection: Connection, exc: BaseException) -> str:
    """The error as the connection's owner sees it: a sentence for the failures a mail server
    or the files cause (the log keeps the raw error, with a file connection's paths)."""
    if connection.kind.is_file and isinstance(exc, MailSourceError | OSError):
        return FILES_UNREADABLE
    return plain_error(exc) or f"{type(exc).__name__}: {exc}"


_PLAIN_ERRORS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "the mail server refused the connection"),
    (socket.gaierror, "the mail server's name could not be found"),
    (TimeoutError, "the mail server did not answer in time"),
    (ssl.SSLError, "a secure connection to the mail server could not be made"),
    (ConnectionResetError, "the mail server closed the connection"),
    (OSError, "the mail server could not be reached"),
)
_PLAIN_TEXTS = (
    ("connection refused", "the mail server refused the connection"),
    ("timed out", "the mail server did not answer in time"),
    ("eof", "the mail server closed the connection in the middle of a reply"),
    ("connection reset", "the mail server closed the connection"),
    ("could not sign in just now", "the mail server could not sign in just now"),
    ("rate limit", "the mail provider asked us to slow down"),
    ("429", "the mail provider asked us to slow down"),
    ("quota", "the mail provider asked us to slow down"),
)


def plain_error(exc: BaseException) -> str | None:
    """A sentence for a network or mail-server failure ("the mail server refused the
    connection"), from the error or the one that caused it; None for anything else."""
    if not isinstance(exc, TransientSourceError | OSError):
        return None
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for error in chain:
        for kind, sentence in _PLAIN_ERRORS:
            if isinstance(error, kind):
                return sentence
    if isinstance(exc, TransientSourceError):
        text = str(exc).lower()
        found = next((sentence for word, sentence in _PLAIN_TEXTS if word in text), None)
        return found or "the mail server could not be reached or answered with an error"
    return None


_FAILED_ATTEMPT = "the sync failed; the connection's last error says why"
_ATTEMPT_TEXTS = (
    *_PLAIN_TEXTS,
    ("no such host", "the mail server's name could not be found"),
    ("tls", "a secure connection to the mail server could not be made"),
    ("could not reach", "the mail server could not be reached"),
    ("unreachable", "the mail server could not be reached"),
)


def plain_attempt(message: str) -> str:
    """A failed sync attempt's recorded message (its job's output) as the connection's owner
    reads it: a sentence for network and mail-server failures, else a general one. Never the
    message itself, which may name server paths or quote code."""
    text = message.lower()
    return next((sentence for word, sentence in _ATTEMPT_TEXTS if word in text), _FAILED_ATTEMPT)


async def _fail(
    pool: AsyncConnectionPool,
    connection: Connection,
    clock: Clock,
    error: str,
    *,
    needs_reauth: bool = False,
    detail: str | None = None,
) -> None:
    try:
        async with pool.connection() as conn:
            await mail_repo.mark_sync_failed(
                conn, connection.id, error=error, now=clock.now(), needs_reauth=needs_reauth
            )
            if error != INTERRUPTED:  # a worker stopping is no failure
                await webhooks_repo.record_event(
                    conn,
                    connection.user_id,
                    "sync.failed",
                    _failure_event(connection, error, needs_reauth),
                )
    except Exception:  # the original error matters more; the status is best effort
        log.exception("could not record sync failure", extra={"action": "mail.sync_status"})
    log.warning(
        "mail sync failed",
        extra={
            "action": "mail.sync_failed",
            "connection_id": connection.id,
            "needs_reauth": needs_reauth,
            "error": detail or error,
        },
    )


def _failure_event(connection: Connection, error: str, needs_reauth: bool) -> dict[str, Any]:
    """What a `sync.failed` webhook says: the connection and the error as its owner reads it."""
    return {
        "connection_id": connection.id,
        "connection": connection.display_name or connection.source,
        "kind": connection.kind.value,
        "error": error,
        "needs_reauth": needs_reauth,
    }


def make_handler(
    deps: JobDeps,
    clock: Clock,
    *,
    source: MailSource | None = None,
    on_progress: ProgressCallback | None = None,
) -> Callable[[Job], Any]:
    """The queue handler: every `sync-emails` job is a run of the mailbox-sync workflow
    (`define`); a job sent as plain data (a schedule's tick, "Sync now") is a run too.
    `source`, `on_progress`: for a process that runs one run of its own (`fluffymail import`,
    with `work(..., only=[run])`): read that source, report each committed batch."""
    workflows = Workflows(deps.queue, log)
    define(workflows, deps, clock, source=source, on_progress=on_progress)
    return workflows.handle


def define(
    workflows: Workflows,
    deps: JobDeps,
    clock: Clock,
    *,
    source: MailSource | None = None,
    on_progress: ProgressCallback | None = None,
) -> None:
    """One run per sync of a mailbox: read and store the mail (each batch's extraction jobs
    join the run's `extract` group in the batch's transaction) → wait, holding no slot, until
    every batch is extracted → analyse the user's relationships once → write the search rows
    of the mail it stored (jobs in its `index` group: the people first, the search a moment
    later, issue 19) → done. A run resumed after a crash re-does no finished step: the read
    continues from the connection's cursor (what committed stays), the joins and the analysis
    return what they recorded."""

    @workflows.define(QUEUE, version=1, payload="data", step_retry_limit=0, **QUEUE_OPTIONS)
    async def sync_mailbox(step: Step, data: dict[str, Any]) -> dict[str, Any]:
        args = Args.from_data(data)
        group = await step.group(EXTRACT_STEP)
        mark = await step.run(MARK_STEP, _mark_step, deps)
        reading = _Reading(source=source, on_progress=on_progress)
        synced = await step.run(SYNC_STEP, _sync_step, deps, clock, args, workflows, group, reading)
        if synced.get("status") not in ("ok", "paused"):  # paused: what was read gets scored
            return synced
        extracted = await step.join(EXTRACT_STEP)
        analysed = await step.run(ANALYZE_STEP, _analyse_step, deps, clock, args.user_id)
        index = await step.group(INDEX_STEP)
        await step.run(SEND_INDEX_STEP, _send_index_step, deps, workflows, index, args, mark)
        indexed = await step.join(INDEX_STEP)
        return {**synced, "extracted": extracted, "analysed": analysed, "indexed": indexed}


async def _mark_step(deps: JobDeps) -> int:
    """The last message id handed out before the read: the run's mail lies above it."""
    async with deps.pool.connection() as conn:
        return await mail_repo.last_message_id(conn)


async def _send_index_step(
    deps: JobDeps, workflows: Workflows, index: Group, args: Args, after: int
) -> int:
    """Send `index-messages` jobs into the run's `index` group for the user's mail above
    `after` that has no search row yet; how many messages."""
    async with deps.pool.connection() as conn, conn.transaction():
        ids = await mail_repo.unindexed_messages(conn, args.user_id, after=after)
        specs = index_messages.chunks(ids, args.user_id)
        if specs:
            await workflows.add_children(index, index_messages.QUEUE, specs, conn=conn)
    return len(ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reading:
    """What a process running its own run reads from and reports to (none: the connection's
    source, no report)."""

    source: MailSource | None = None
    on_progress: ProgressCallback | None = None


async def _sync_step(
    deps: JobDeps,
    clock: Clock,
    args: Args,
    workflows: Workflows,
    group: Group,
    reading: _Reading,
) -> dict[str, Any]:
    """Read and store the connection's new mail; permanent failures (bad credentials, missing
    files) end the run with that status instead of retrying; anything else raises (the run's
    job retries, and the read continues from the cursor)."""
    started = time.monotonic()

    async def send(conn: Any, jobs: list[dict[str, Any]]) -> Any:
        return await workflows.add_children(group, extract_contacts.QUEUE, jobs, conn=conn)

    try:
        result = await sync_connection(
            pool=deps.pool,
            queue=deps.queue,
            connection_id=args.connection_id,
            clock=clock,
            settings=deps.settings,
            full=args.full,
            parser=deps.parser,
            send_extraction=send,
            analyse=False,
            source=reading.source,
            on_progress=reading.on_progress,
        )
    except AuthError as exc:
        return {"status": "needs_reauth", "reason": exc.reason}
    except MailSourceError:  # the path stays in the log: job output is shown to users
        return {"status": "failed", "reason": FILES_UNREADABLE}
    except MissingConnection as exc:  # deleted since the job was sent: nothing to do
        return {"status": "gone", "reason": str(exc)}
    output = result.as_output()
    output["handler_seconds"] = round(time.monotonic() - started, 3)
    return output


async def _analyse_step(deps: JobDeps, clock: Clock, user_id: int) -> dict[str, Any]:
    """Score the user's relationships once, now that every batch of the sync is extracted."""
    return await analyze_relationships.analyze_now(deps, clock, user_id)
