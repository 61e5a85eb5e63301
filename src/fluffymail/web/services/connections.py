"""A user's mail connections, always scoped to that user, and "sync now" through the queue.

Another user's connection looks exactly like a missing one (`ConnectionNotFound`), so ids
cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.db.sql import load_sql
from fluffymail.errors import FluffyMailError
from fluffymail.jobs import sync_emails
from fluffymail.queue import Job, JobQueue

SQL = load_sql("fluffymail.web")
SYNC_CRON = "*/15 * * * *"
RECENT_JOBS_SCAN = 500


class ConnectionNotFound(FluffyMailError):
    """No such connection."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionView:
    """A connection as its owner sees it (no cursor, no credentials)."""

    id: int
    kind: str
    source: str
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

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ConnectionView:
        return cls(**{k: v for k, v in row.items() if k != "user_id"})

    @property
    def label(self) -> str:
        return self.display_name or self.source


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRequest:
    connection_id: int
    job_id: int | None  # None: a sync was already queued for it
    schedule: str


def schedule_key(connection_id: int) -> str:
    return f"connection-{connection_id}"


async def list_connections(pool: AsyncConnectionPool, user_id: int) -> list[ConnectionView]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(SQL["list_connections"], {"user_id": user_id})).fetchall()
    return [ConnectionView.from_row(row) for row in rows]


async def get_connection(pool: AsyncConnectionPool, user_id: int, connection_id: int) -> ConnectionView:
    """The user's connection; `ConnectionNotFound` when missing or someone else's."""
    params = {"id": connection_id, "user_id": user_id}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["get_user_connection"], params)).fetchone()
    if row is None:
        raise ConnectionNotFound(f"no connection {connection_id}")
    return ConnectionView.from_row(row)


async def recent_sync_jobs(queue: JobQueue, user_id: int, connection_id: int, limit: int = 10) -> list[Job]:
    """The latest sync jobs of one of the user's connections (newest first)."""
    jobs = await queue.find_jobs(name=sync_emails.QUEUE, limit=RECENT_JOBS_SCAN)
    return [job for job in jobs if _is_sync_of(job, user_id, connection_id)][:limit]


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
    await get_connection(pool, user_id, connection_id)
    await ensure_sync_queue(queue)
    args = sync_emails.Args(connection_id=connection_id, user_id=user_id)
    job_id = await sync_emails.enqueue(queue, args)
    data = {"connection_id": connection_id, "user_id": user_id}
    await queue.schedule(sync_emails.QUEUE, SYNC_CRON, data, key=schedule_key(connection_id))
    return SyncRequest(connection_id=connection_id, job_id=job_id, schedule=SYNC_CRON)


async def db_now(pool: AsyncConnectionPool) -> datetime:
    """The database's clock: pages show ages against it, not the web server's."""
    async with pool.connection() as conn:
        row = await (await conn.execute(SQL["db_now"])).fetchone()
    assert row is not None
    return row[0]
