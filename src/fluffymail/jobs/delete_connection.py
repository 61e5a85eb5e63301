"""The `delete-connection` job: remove a connection's mail in batches, then the connection.

The web app marks the connection `deleting` and removes its schedule in the request; this job
deletes, batch by batch (one transaction each, so a crash resumes where it stopped), the
messages only that connection holds (a message also found through another connection stays,
minus this connection's folders), recounts threads and contacts, removes the folders and
encrypted credentials with the connection row, deletes an uploaded archive from the data
directory, deletes its calendar's meetings and asks `analyze-relationships` to rescore the user.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import Clock
from fluffymail.crm.calendar import service as calendar_service
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.jobs import analyze_relationships, kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.outcomes import Snooze

__all__ = ["QUEUE", "QUEUE_OPTIONS", "Args", "delete_connection", "enqueue", "make_handler"]

QUEUE = kinds.DELETE_CONNECTION
BATCH_SIZE = 2000
SYNC_WAIT_SECONDS = 15
UPLOADS = "uploads"
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",
    "retry_limit": 10,
    "retry_delay": 30,
    "retry_backoff": True,
    "expire_in": "6 hours",
}
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    connection_id: int
    user_id: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Args:
        return cls(connection_id=int(data["connection_id"]), user_id=int(data["user_id"]))

    def to_data(self) -> dict[str, Any]:
        return {"connection_id": self.connection_id, "user_id": self.user_id}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteResult:
    status: str  # deleted | gone | not_marked
    locations: int = 0
    messages: int = 0
    batches: int = 0

    def as_output(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "locations": self.locations,
            "messages": self.messages,
            "batches": self.batches,
        }


async def enqueue(queue: JobQueue, args: Args, *, conn: Any = None) -> int | None:
    """Send the deletion; None when one is already queued for this connection."""
    return await queue.send(
        QUEUE, args.to_data(), conn=conn, singleton_key=f"connection-{args.connection_id}"
    )


async def delete_connection(
    *,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    args: Args,
    clock: Clock,
    data_dir: Path | None = None,
    batch_size: int = BATCH_SIZE,
) -> DeleteResult:
    """Delete a connection marked for deletion, with the mail only it holds."""
    async with pool.connection() as conn:
        connection = await mail_repo.get_connection(conn, args.connection_id)
    if connection is None or connection.user_id != args.user_id:
        return DeleteResult(status="gone")
    if connection.deleting_on is None:
        return DeleteResult(status="not_marked")
    locations = messages = batches = 0
    while True:
        async with pool.connection() as conn, conn.transaction():
            forgotten, deleted = await mail_repo.delete_connection_batch(
                conn, connection_id=connection.id, user_id=args.user_id, limit=batch_size
            )
        if forgotten == 0:
            break
        locations, messages, batches = locations + forgotten, messages + deleted, batches + 1
    await _finish(pool, queue, args, clock, recount=messages > 0)
    if connection.kind.is_file and data_dir is not None:
        _remove_upload(Path(connection.source), Path(data_dir) / UPLOADS)
    result = DeleteResult(status="deleted", locations=locations, messages=messages, batches=batches)
    log.info(
        "connection deleted",
        extra={"action": "mail.connection_deleted", "connection_id": args.connection_id,
               **result.as_output()},
    )  # fmt: skip
    return result


async def _finish(
    pool: AsyncConnectionPool, queue: JobQueue, args: Args, clock: Clock, *, recount: bool
) -> None:
    """Recount the user's contacts, drop the connection row and ask for a rescore, together."""
    now = clock.now()
    async with pool.connection() as conn, conn.transaction():
        if recount:
            contact_ids = await mail_repo.live_contact_ids(conn, args.user_id)
            if contact_ids:
                await contacts_repo.recompute_counts(conn, contact_ids, now)
        calendar = calendar_service.google_calendar(args.connection_id)  # its meetings go too
        met = await calendar_service.sweep(conn, args.user_id, calendar, ())
        await mail_repo.delete_connection(conn, args.connection_id)
        if recount or met:
            await analyze_relationships.enqueue(queue, args.user_id, conn=conn, debounce=0)


def _remove_upload(source: Path, uploads: Path) -> None:
    """Delete the upload directory holding `source`, only if it lies under `uploads`."""
    try:
        relative = source.resolve().relative_to(uploads.resolve())
    except ValueError:
        return  # an archive the user imported from elsewhere: never ours to delete
    if len(relative.parts) < 2:
        return
    target = uploads / relative.parts[0] / relative.parts[1]
    shutil.rmtree(target, ignore_errors=True)


async def _sync_running(queue: JobQueue, connection_id: int) -> bool:
    """True while a sync of this connection is active (it would re-add folders we remove)."""
    active = await queue.find_jobs(name=kinds.SYNC_EMAILS, states=["active"], limit=1000)
    return any(
        isinstance(job.data, dict) and job.data.get("connection_id") == connection_id
        for job in active
    )


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Delete the connection; wait (snooze, no retry spent) while one of its syncs runs (it
    stops after the batch it is storing, seeing the connection marked)."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        if await _sync_running(deps.queue, args.connection_id):
            raise Snooze(SYNC_WAIT_SECONDS)
        result = await delete_connection(
            pool=deps.pool,
            queue=deps.queue,
            args=args,
            clock=clock,
            data_dir=deps.settings.data_dir,
        )
        return result.as_output()

    return handle
