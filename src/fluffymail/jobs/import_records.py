"""The `import-records` job: apply a confirmed CSV or vCard import run (its rows staged when
the file was previewed) to the user's contacts or companies.

Atomicity: the whole run is applied in one transaction, with the run locked and marked done
in that same transaction, so a crash or a failed attempt leaves nothing half-done (the retry
starts again from the staged rows), and a run already done is not applied twice. Even
applied again it changes nothing new: rows match by address (companies by domain), tags and
notes already there are not added twice. It then asks `analyze-relationships` to rescore the
user, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.imports import repo as imports_repo
from fluffymail.jobs import analyze_relationships, kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = ["QUEUE", "QUEUE_OPTIONS", "Args", "enqueue", "ensure_queue", "make_handler"]

QUEUE = kinds.IMPORT_RECORDS
QUEUE_OPTIONS: dict[str, Any] = {
    "retry_limit": 3,
    "retry_delay": 30,
    "retry_backoff": True,
    "expire_in": 1800,  # 200,000 rows take about two minutes on a loaded machine
}
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    run_id: int
    user_id: int

    @classmethod
    def from_data(cls, data: Any) -> Args:
        if not isinstance(data, dict):
            raise ValueError(f"payload needs run_id and user_id, got {data!r}")
        return cls(run_id=int(data["run_id"]), user_id=int(data["user_id"]))

    def to_data(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "user_id": self.user_id}


async def ensure_queue(queue: JobQueue) -> None:
    """Create the queue with the job's options when no worker has yet."""
    if QUEUE not in await queue.get_queues():
        await queue.create_queue(QUEUE, **QUEUE_OPTIONS)


async def enqueue(queue: JobQueue, args: Args, *, conn: Any = None) -> int | None:
    """Send the import of one run (once: keyed by the run)."""
    return await queue.send(QUEUE, args.to_data(), conn=conn, singleton_key=f"run-{args.run_id}")


async def run_import(deps: JobDeps, clock: Clock, args: Args) -> dict[str, Any]:
    """Apply the run in one transaction; its outcome as the job's output."""
    async with deps.pool.connection() as conn, conn.transaction():
        run = await imports_repo.lock_run(conn, args.user_id, args.run_id)
        if run is None or run.state != "queued":
            return {"run_id": args.run_id, "skipped": run.state if run else "missing"}
        await imports_repo.apply(conn, run, clock.now())
        await analyze_relationships.enqueue(deps.queue, args.user_id, conn=conn, debounce=0)
        found = await imports_repo.get_run(conn, args.user_id, args.run_id)
    assert found is not None
    return {
        "run_id": args.run_id,
        "created": found["created_count"],
        "updated": found["updated_count"],
        "warnings": len(found["warnings"]),  # the preview's and the apply's
    }


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Apply the run; a failed attempt is noted on the run (shown in its report), then retried;
    after the last one the run is 'failed', and the user can try it again."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        try:
            output = await run_import(deps, clock, args)
        except Exception as exc:
            async with deps.pool.connection() as conn:
                await imports_repo.record_failure(
                    conn,
                    args.run_id,
                    f"{type(exc).__name__}: {exc}",
                    final=job.retry_count >= job.retry_limit,
                    now=clock.now(),
                )
            raise
        log.info(
            "import applied",
            extra={"action": "imports.applied", "job_id": job.id, **output},
        )
        return output

    return handle
