"""A user's mail connections, always scoped to that user: create (IMAP after a test login),
sync now, pause, resume and delete, all through the queue.

Another user's connection looks exactly like a missing one (`ConnectionNotFound`), so ids
cannot be probed. Refusals the user can act on are `ConnectionProblem`s with an HTTP status,
a code and a reason (never a credential).
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail import file_imports
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.db.sql import load_sql
from fluffymail.errors import FluffyMailError
from fluffymail.integrations import net
from fluffymail.integrations.mail import imap
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.files import MailSourceError
from fluffymail.integrations.mail.source import AuthError, TransientSourceError
from fluffymail.jobs import delete_connection, sync_emails
from fluffymail.queue import Job, JobQueue, JobState
from fluffymail.web.services import limits
from fluffymail.web.services.problems import ServiceProblem

if TYPE_CHECKING:
    from fluffymail.web.services.sync_progress import SyncProgress

SQL = load_sql("fluffymail.web")
SYNC_CRON = "*/15 * * * *"
RECENT_JOBS_SCAN = 500


log = logging.getLogger("fluffymail.web")
IMAP_TEST_TIMEOUT = 20.0


class ConnectionNotFound(FluffyMailError):
    """No such connection."""


class ConnectionProblem(ServiceProblem):
    """A connection request that cannot be done as asked; `reason` says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionView:
    """A connection as its owner sees it (no cursor, no credentials)."""

    id: int
    kind: str
    source: str  # imap://user@host:port, the Gmail address, or file:<id> (never a path)
    display_name: str
    status: str
    last_error: str | None
    last_error_on: datetime | None
    last_synced_on: datetime | None
    sync_started_on: datetime | None
    seen_count: int
    stored_count: int
    remaining_estimate: int | None
    created_on: datetime
    paused_on: datetime | None = None
    deleting_on: datetime | None = None
    visibility: str = "full"  # 'metadata': bodies never go to an external AI model
    contact_policy: str = "sent"  # who becomes a contact (crm.contacts.extraction.Policy)
    progress_folder: str | None = None  # the folder a running sync reads
    stalled_seconds: int | None = None  # syncing, but the server silent this long
    retry_note: str | None = None  # a failed sync: when it is tried again (`with_retry_notes`)
    calendar_synced_on: datetime | None = None  # Gmail: its calendar's last sync
    calendar_error: str | None = None  # Gmail: why the calendar is not read (no scope: reconnect)
    progress: SyncProgress | None = None  # its sync's run, while it goes (`sync_progress`)

    @property
    def importing(self) -> bool:
        """Its mail is read, and the run still finds people or scores them."""
        return self.progress is not None and self.progress.phase != "reading"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ConnectionView:
        values = {k: v for k, v in row.items() if k != "user_id"}
        if ConnectionKind(values["kind"]).is_file:  # its path on the server stays there
            values["source"] = f"file:{values['id']}"
        return cls(**values)

    @property
    def label(self) -> str:
        return self.display_name or self.source

    @property
    def paused(self) -> bool:
        return self.paused_on is not None

    @property
    def deleting(self) -> bool:
        return self.deleting_on is not None

    @property
    def state(self) -> str:
        """What the connection is doing, for people: deleting, paused, stalled (syncing, but
        the server has not answered for a while), waiting (no sync has run yet: "ok" would
        claim a mailbox is read that never was), or its sync status."""
        if self.deleting or self.paused:
            return "deleting" if self.deleting else "paused"
        if self.stalled_seconds is not None:
            return "stalled"
        return "waiting" if self.status == "ok" and self.last_synced_on is None else self.status


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapAccount:
    """What a person types to add an IMAP account; `security` is ssl, starttls or plain."""

    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    folders: tuple[str, ...] | None = None
    display_name: str = ""

    def config(self, timeout: float = IMAP_TEST_TIMEOUT) -> imap.ImapConfig:
        return imap.ImapConfig(
            host=self.host, port=self.port, ssl=self.security == "ssl",
            starttls=self.security == "starttls", username=self.username,
            password=self.password, folders=self.folders, timeout=timeout,
        )  # fmt: skip

    @property
    def source(self) -> str:
        return f"imap://{self.username}@{self.host}:{self.port}"

    def credentials(self) -> dict[str, Any]:
        """The record stored encrypted: `ImapConfig` keyword arguments."""
        return {
            "host": self.host, "port": self.port, "ssl": self.security == "ssl",
            "starttls": self.security == "starttls", "username": self.username,
            "password": self.password, "folders": list(self.folders) if self.folders else None,
        }  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    """A connection made (or reconnected, `created` False) and the first sync sent."""

    connection: ConnectionView
    created: bool
    job_id: int | None
    moved_from: str | None = None  # an upload of a file imported before: where it was read


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRequest:
    connection_id: int
    job_id: int | None  # None: a sync was already queued for it
    schedule: str


async def list_connections(pool: AsyncConnectionPool, user_id: int) -> list[ConnectionView]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(SQL["list_connections"], {"user_id": user_id})).fetchall()
    return [ConnectionView.from_row(row) for row in rows]


async def get_connection(
    pool: AsyncConnectionPool, user_id: int, connection_id: int
) -> ConnectionView:
    """The user's connection; `ConnectionNotFound` when missing or someone else's."""
    params = {"id": connection_id, "user_id": user_id}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["get_user_connection"], params)).fetchone()
    if row is None:
        raise ConnectionNotFound(f"no connection {connection_id}")
    return ConnectionView.from_row(row)


async def recent_sync_jobs(
    queue: JobQueue, user_id: int, connection_id: int, limit: int = 10
) -> list[Job]:
    """The latest sync jobs of one of the user's connections (newest first)."""
    jobs = await recent_syncs(queue)
    return [job for job in jobs if _is_sync_of(job, user_id, connection_id)][:limit]


def attempt_error(message: str) -> str:
    """A failed sync attempt's error in its owner's words (`sync_emails.plain_attempt`)."""
    return sync_emails.plain_attempt(message)


async def recent_syncs(queue: JobQueue) -> list[Job]:
    """The newest sync jobs (of every user; newest first): one read for a page's retry notes
    and import progress."""
    return await queue.find_jobs(name=sync_emails.QUEUE, limit=RECENT_JOBS_SCAN)


def with_retry_notes(
    syncs: list[Job], user_id: int, views: list[ConnectionView], now: datetime
) -> list[ConnectionView]:
    """The views, failed ones with `retry_note` (when their sync is tried again) from their
    latest sync job's retry state (`syncs`: `recent_syncs`)."""
    failed = {v.id for v in views if v.state == "failed"}
    if not failed:
        return views
    latest: dict[int, Job] = {}
    for job in syncs:
        data = job.data if isinstance(job.data, dict) else {}
        if data.get("user_id") == user_id and data.get("connection_id") in failed:
            latest.setdefault(data["connection_id"], job)  # newest first
    return [
        replace(v, retry_note=retry_note(latest.get(v.id), now)) if v.id in failed else v
        for v in views
    ]


def retry_note(job: Job | None, now: datetime) -> str:
    """When a failed sync is tried again, in words: "next try in 40 s, 2 tries left" (the
    tries left count the next one), or that only the 15-minute schedule will."""
    if job is not None and job.state in (JobState.RETRY, JobState.CREATED):
        wait = 0 if job.start_after is None else (job.start_after - now).total_seconds()
        left = max(job.retry_limit - job.retry_count + 1, 1)
        tries = "1 try left" if left == 1 else f"{left} tries left"
        return f"next try {_in(wait)}, {tries}"
    if job is not None and job.state is JobState.ACTIVE:
        return "trying again now"
    return "no tries left; it syncs again at its next 15-minute check, or use Sync now"


def _in(seconds: float) -> str:
    if seconds < 1:
        return "any moment now"
    if seconds < 90:
        return f"in {math.ceil(seconds)} s"
    return f"in {math.ceil(seconds / 60)} min"


def _is_sync_of(job: Job, user_id: int, connection_id: int) -> bool:
    data = job.data if isinstance(job.data, dict) else {}
    return data.get("connection_id") == connection_id and data.get("user_id") == user_id


async def ensure_sync_queue(queue: JobQueue) -> None:
    """Create `sync-emails` with the job's own options when no worker has yet."""
    if sync_emails.QUEUE not in await queue.get_queues():
        await queue.create_queue(sync_emails.QUEUE, **sync_emails.QUEUE_OPTIONS)


async def request_sync(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, connection_id: int
) -> SyncRequest:
    """Send an immediate sync of the user's connection and make sure it syncs every 15 minutes."""
    view = await get_connection(pool, user_id, connection_id)
    if view.deleting:
        raise ConnectionProblem(409, "deleting", "this connection is being deleted")
    if view.paused:
        raise ConnectionProblem(409, "paused", "this connection is paused; resume it to sync")
    if view.status == "needs_reauth":
        raise ConnectionProblem(409, "needs_reauth", reauth_advice(view))
    if await _fully_imported(pool, view):
        count = await message_count(pool, connection_id)
        raise ConnectionProblem(
            409,
            "already_imported",
            f"This archive is already imported ({count:,} message{'' if count == 1 else 's'})."
            " To add newer mail, upload a newer export.",
        )
    return await _start_syncing(queue, user_id, connection_id)


def reauth_advice(view: ConnectionView) -> str:
    """What to do when the provider refused the stored credentials (nothing logs in till then)."""
    if view.kind == "gmail":
        return (
            "Google no longer accepts FluffyMail's access to this mailbox; connect Gmail again "
            "to resume syncing. Nothing tries to sign in until you do."
        )
    return (
        "the mail server refused the stored password; add the account again with its current "
        "password to resume syncing. Nothing tries to sign in until you do, so the server "
        "has no reason to lock the account."
    )


async def _fully_imported(pool: AsyncConnectionPool, view: ConnectionView) -> bool:
    """An mbox or Maildir synced to its end with nothing after its cursor: syncing it again
    would read nothing (an uploaded export never changes; a local file may have grown)."""
    if not ConnectionKind(view.kind).is_file or view.status != "ok" or not view.last_synced_on:
        return False
    async with pool.connection() as conn:
        connection = await mail_repo.get_connection(conn, view.id)
    if connection is None or connection.cursor is None:
        return False
    try:
        remaining = await asyncio.to_thread(
            FileSource(connection.source).estimate, connection.cursor
        )
    except (MailSourceError, OSError):
        return False  # a sync reports what is wrong with the file
    return remaining == 0


async def message_count(pool: AsyncConnectionPool, connection_id: int) -> int:
    """How many messages the connection has read (each once)."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(SQL["connection_message_count"], {"id": connection_id})
        ).fetchone()
    return int(row[0]) if row else 0


async def _start_syncing(queue: JobQueue, user_id: int, connection_id: int) -> SyncRequest:
    await ensure_sync_queue(queue)
    args = sync_emails.Args(connection_id=connection_id, user_id=user_id)
    job_id = await sync_emails.enqueue(queue, args, asked=True)
    data = {"connection_id": connection_id, "user_id": user_id}
    await queue.schedule(
        sync_emails.QUEUE, SYNC_CRON, data, key=sync_emails.schedule_key(connection_id)
    )
    return SyncRequest(connection_id=connection_id, job_id=job_id, schedule=SYNC_CRON)


async def db_now(pool: AsyncConnectionPool) -> datetime:
    """The database's clock: pages show ages against it, not the web server's."""
    async with pool.connection() as conn:
        row = await (await conn.execute(SQL["db_now"])).fetchone()
    assert row is not None
    return row[0]


# -- creating ----------------------------------------------------------------------------


def connection_tests(settings: Settings) -> limits.BlockingRunner:
    """The pool test logins run on: `connection_test_workers` threads, at most
    `connection_tests_per_user` tests at once per user."""
    return limits.BlockingRunner(
        workers=settings.connection_test_workers,
        per_user=settings.connection_tests_per_user,
        name="fm-connection-test",
    )


async def create_imap(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    settings: Settings,
    user_id: int,
    account: ImapAccount,
    *,
    tests: limits.BlockingRunner,
    connect: imap.Connect = imap.connect,
) -> Created:
    """Add (or reconnect) an IMAP account once a test login succeeds, then sync it.

    The test login runs on `tests` (its own pool, a few at once per user) and reaches only
    addresses the outbound policy allows.

    Raises:
        ConnectionProblem: the address is not allowed (400 imap_address_not_allowed), the
            server refused the login (400 imap_login_failed), could not be reached (400
            imap_unreachable), lacks a requested folder, the user has too many tests
            running (429 too_many_tests), or the account is being deleted (409).
    """
    policy = net.OutboundPolicy.from_settings(settings, ports=imap.IMAP_PORTS)

    def too_many() -> ConnectionProblem:
        return ConnectionProblem(
            429, "too_many_tests",
            f"you already have {tests.slots.limit} connection tests running, the most at "
            "once; wait for one to finish",
        )  # fmt: skip

    await tests.run(user_id, lambda: _test_login(account, policy, connect), too_many)
    box = secrets.SecretBox(secrets.load_key(settings))
    return await save_connection(
        pool, queue, user_id, kind=ConnectionKind.IMAP, source=account.source,
        display_name=account.display_name or account.username,
        credentials=box.encrypt_json(account.credentials()), rename=bool(account.display_name),
    )  # fmt: skip


async def imap_details(
    pool: AsyncConnectionPool, settings: Settings, user_id: int, connection_id: int
) -> dict[str, str] | None:
    """What the IMAP form shows to sign one of the user's IMAP connections in again: its saved
    server, port, security, user name, folders and name, never the password. None when it is
    not the user's IMAP connection, or its record cannot be read."""
    try:
        view = await get_connection(pool, user_id, connection_id)
    except ConnectionNotFound:
        return None
    if view.kind != ConnectionKind.IMAP or view.deleting:
        return None
    async with pool.connection() as conn:
        sealed = await mail_repo.get_credentials(conn, connection_id)
    try:
        stored = secrets.open_box(settings).decrypt_json(sealed) if sealed else None
    except secrets.SecretError:
        return None
    if not stored:
        return None
    security = "ssl" if stored.get("ssl") else "starttls" if stored.get("starttls") else "plain"
    return {
        "host": str(stored.get("host", "")), "port": str(stored.get("port", "")),
        "security": security, "username": str(stored.get("username", "")),
        "folders": ", ".join(stored.get("folders") or ()), "display_name": view.display_name,
    }  # fmt: skip


def _test_login(account: ImapAccount, policy: net.OutboundPolicy, connect: imap.Connect) -> None:
    """Log in (blocking) and check the requested folders exist; the password is never logged."""
    where = f"{account.host}:{account.port}"
    try:
        client = connect(account.config(), policy)
    except AuthError as exc:
        raise ConnectionProblem(400, "imap_login_failed", exc.reason) from exc
    except TransientSourceError as exc:
        raise ConnectionProblem(
            503, "imap_busy", f"{where} could not sign in just now ({exc}); try again in a minute"
        ) from exc
    except net.OutboundRefused as exc:
        raise ConnectionProblem(400, "imap_address_not_allowed", exc.reason) from exc
    except net.Unreachable as exc:
        raise ConnectionProblem(400, "imap_unreachable", exc.reason) from exc
    except (OSError, imaplib.IMAP4.error) as exc:  # after the greeting: the login itself broke
        raise ConnectionProblem(
            400, "imap_unreachable", f"{account.host} on port {account.port} dropped the login"
        ) from exc
    try:
        missing = [f for f in account.folders or () if not client.folder_exists(f)]
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    if missing:
        raise ConnectionProblem(
            400, "imap_folder_missing", f"{where} has no folder named {', '.join(missing)}"
        )


async def save_connection(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    user_id: int,
    *,
    kind: ConnectionKind,
    source: str,
    display_name: str,
    credentials: bytes | None,
    rename: bool = False,
    same_file: file_imports.SameFile | None = None,
) -> Created:
    """Store the connection (or new credentials on an existing one, and with `rename` its new
    `display_name`), send its first sync and make sure it syncs every 15 minutes. With
    `same_file` (files): the connection that read the same file before, if any, reads
    `source` from now on (`crm.mail.file_imports`)."""
    moved_from = None
    async with pool.connection() as conn, conn.transaction():
        if same_file is not None:
            chosen = await file_imports.connect_files(
                conn, user_id=user_id, kind=kind, source=Path(source),
                display_name=display_name, same_file=same_file,
            )  # fmt: skip
            connection, created = chosen.connection, chosen.created
            moved_from = chosen.moved_from
        else:
            connection, created = await mail_repo.upsert_connection(
                conn, user_id=user_id, kind=kind, source=source, display_name=display_name,
                credentials=credentials,
            )  # fmt: skip
        if connection.deleting_on is not None:
            raise ConnectionProblem(409, "deleting", "that connection is still being deleted")
        if not created and credentials is not None:
            await mail_repo.set_credentials(conn, connection.id, credentials, reauthorized=True)
        if not created and rename:
            params = {"id": connection.id, "display_name": display_name}
            await conn.execute(SQL["set_connection_name"], params)
    log.info(
        "connection saved",
        extra={"action": "web.connection_saved", "connection_id": connection.id,
               "kind": str(kind), "new": created},
    )  # fmt: skip
    request = SyncRequest(connection_id=connection.id, job_id=None, schedule=SYNC_CRON)
    if connection.paused_on is None:
        request = await _start_syncing(queue, user_id, connection.id)
    view = await get_connection(pool, user_id, connection.id)
    return Created(connection=view, created=created, job_id=request.job_id, moved_from=moved_from)


# -- pausing, resuming, deleting ---------------------------------------------------------


async def _set_paused(
    pool: AsyncConnectionPool, user_id: int, connection_id: int, paused: bool
) -> None:
    params = {"id": connection_id, "user_id": user_id, "paused": paused}
    async with pool.connection() as conn:
        row = await (await conn.execute(SQL["set_connection_paused"], params)).fetchone()
    if row is None:
        await get_connection(pool, user_id, connection_id)  # 404 when not the user's
        raise ConnectionProblem(409, "deleting", "this connection is being deleted")


async def set_visibility(
    pool: AsyncConnectionPool, user_id: int, connection_id: int, visibility: str
) -> ConnectionView:
    """'full' lets this connection's bodies reach the external AI (when it is on); 'metadata'
    keeps them in FluffyMail: its contacts get offline summaries. Takes effect at the next
    summary (summaries already stored stay until new mail arrives)."""
    params = {"id": connection_id, "user_id": user_id, "visibility": visibility}
    async with pool.connection() as conn:
        row = await (await conn.execute(SQL["set_connection_visibility"], params)).fetchone()
    if row is None:
        await get_connection(pool, user_id, connection_id)  # 404 when not the user's
        raise ConnectionProblem(409, "deleting", "this connection is being deleted")
    return await get_connection(pool, user_id, connection_id)


async def pause(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, connection_id: int
) -> ConnectionView:
    """Stop syncing: the schedule goes, a sync still queued skips itself when it runs, and a
    running one stops after the batch it is storing."""
    await _set_paused(pool, user_id, connection_id, True)
    await queue.unschedule(sync_emails.QUEUE, sync_emails.schedule_key(connection_id))
    return await get_connection(pool, user_id, connection_id)


async def resume(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, connection_id: int
) -> tuple[ConnectionView, SyncRequest]:
    """Sync again: now, and every 15 minutes (once new credentials are given, when the
    provider refused the stored ones)."""
    await _set_paused(pool, user_id, connection_id, False)
    view = await get_connection(pool, user_id, connection_id)
    if view.status == "needs_reauth":
        return view, SyncRequest(connection_id=connection_id, job_id=None, schedule=SYNC_CRON)
    request = await _start_syncing(queue, user_id, connection_id)
    return await get_connection(pool, user_id, connection_id), request


async def delete(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, connection_id: int
) -> int | None:
    """Mark the connection deleting, drop its schedule and send the `delete-connection` job
    (in the same transaction). Returns the job id (None when one was already queued)."""
    if delete_connection.QUEUE not in await queue.get_queues():
        await queue.create_queue(delete_connection.QUEUE, **delete_connection.QUEUE_OPTIONS)
    args = delete_connection.Args(connection_id=connection_id, user_id=user_id)
    async with pool.connection() as conn, conn.transaction():
        params = {"id": connection_id, "user_id": user_id}
        row = await (await conn.execute(SQL["mark_connection_deleting"], params)).fetchone()
        if row is None:
            raise ConnectionNotFound(f"no connection {connection_id}")
        job_id = await delete_connection.enqueue(queue, args, conn=conn)
    await queue.unschedule(sync_emails.QUEUE, sync_emails.schedule_key(connection_id))
    return job_id
