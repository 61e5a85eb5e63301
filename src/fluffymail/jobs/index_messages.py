"""The `index-messages` job: write the search rows of a chunk of one user's messages, and the
nightly sweep that finds mail left without them.

A sync's store leaves its messages' search rows deferred (migration 0038); the sync's run
indexes them once its mail is extracted and scored (`sync_emails`: the people come first, the
search a moment later), one job per chunk of ids in the run's `index` group. Payload
`{"message_ids": [...], "user_id": id}`. Re-running a job changes nothing.

Payload `{"sweep": true}` (the nightly cron): mail stored over an hour ago with no search row
(its run's index job failed for good, or the run never reached that step) gets index jobs
of its own, so no message stays out of search for more than a day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.jobs import kinds, planner_stats, priorities, schedules, sweeps
from fluffymail.jobs.deps import JobDeps
from fluffymail.jobs.fairness import message_chunks
from fluffymail.queue import Job, JobQueue

__all__ = [
    "CHUNK",
    "NIGHTLY_CRON",
    "QUEUE",
    "QUEUE_OPTIONS",
    "SWEEP_AGE",
    "Args",
    "chunks",
    "install_schedule",
    "make_handler",
]

QUEUE = kinds.INDEX_MESSAGES
CHUNK = 1000  # message ids per job: a few seconds of the database's time at most
QUEUE_OPTIONS: dict[str, Any] = {
    "fair": True,  # group key = user: one big import's chunks do not hold back another user's
    "retry_limit": 3,
    "retry_delay": 10,
    "retry_backoff": True,
}
NIGHTLY_CRON = "29 3 * * *"  # UTC, between the relationship rescore (3:17) and follow-ups (3:41)
NIGHTLY_KEY = "nightly-sweep"
SWEEP_AGE = timedelta(hours=1)  # younger mail is still its run's to index
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    message_ids: tuple[int, ...] = ()
    user_id: int | None = None
    sweep: bool = False

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Args:
        if data.get("sweep") is True:
            return cls(sweep=True)
        ids = tuple(int(i) for i in data["message_ids"])
        return cls(message_ids=ids, user_id=int(data["user_id"]))


def chunks(message_ids: Sequence[int], user_id: int, size: int = CHUNK) -> list[dict[str, Any]]:
    """Job specs (payload and fairness key) for `user_id`'s `message_ids`, `size` per job."""
    return message_chunks(message_ids, user_id, size)


async def install_schedule(queue: JobQueue) -> bool:
    """Create the nightly sweep unless it exists (re-creating it could skip a tick)."""
    data = {"sweep": True}
    return await schedules.install_once(
        queue, QUEUE, NIGHTLY_CRON, data, key=NIGHTLY_KEY, priority=priorities.BULK
    )


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Index the job's messages (those already indexed are left as they are), then ANALYZE the
    search rows once a bulk of them came since the last time (`planner_stats`); or sweep."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        if args.sweep:
            return await sweep(deps, clock)
        async with deps.pool.connection() as conn, conn.transaction():
            await mail_repo.index_for_search(conn, args.message_ids)
        analysed = await planner_stats.refresh(deps.pool, planner_stats.SEARCH_TABLES)
        return {"indexed": len(args.message_ids), **({"analysed": analysed} if analysed else {})}

    return handle


async def sweep(deps: JobDeps, clock: Clock) -> dict[str, Any]:
    """Send index jobs for every user's mail stored over `SWEEP_AGE` ago without a search row."""
    async with deps.pool.connection() as conn:
        left = await mail_repo.unsearchable_messages(conn, before=clock.now() - SWEEP_AGE)
    return await sweeps.send_again(
        deps.queue, QUEUE, left, size=CHUNK, log=log, action="search.swept"
    )
