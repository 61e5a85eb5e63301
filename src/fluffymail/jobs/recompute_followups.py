"""The `recompute-followups` job: bring a user's follow-ups up to date and (re)schedule their
reminders; nightly, every user's (and the day's digest event for those who want it).

Payload `{"user_id": id}` (one user, debounced per user) or `{"all": true}` (the nightly cron:
one job per user).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups import service as followups_service
from fluffymail.jobs import followup_reminder, kinds, priorities, schedules
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = ["NIGHTLY_CRON", "QUEUE", "QUEUE_OPTIONS", "Args", "install_schedule", "make_handler"]

QUEUE = kinds.RECOMPUTE_FOLLOWUPS
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",  # one queued + one running recompute per user
    "retry_limit": 3,
    "retry_delay": 60,
    "retry_backoff": True,
}
NIGHTLY_CRON = "41 3 * * *"  # UTC, after the nightly relationship rescore (3:17)
NIGHTLY_KEY = "nightly"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    user_id: int | None = None
    all: bool = False

    @classmethod
    def from_data(cls, data: Any) -> Args:
        if isinstance(data, dict) and data.get("all") is True:
            return cls(all=True)
        value = data.get("user_id") if isinstance(data, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"payload needs an integer user_id or all, got {data!r}")
        return cls(user_id=value)

    def to_data(self) -> dict[str, Any]:
        return {"all": True} if self.all else {"user_id": self.user_id}


async def enqueue(queue: JobQueue, user_id: int, *, conn: Any = None, delay: int = 5) -> int | None:
    """Ask for a recompute of the user's follow-ups (one queued per user)."""
    data = Args(user_id=user_id).to_data()
    return await queue.send(
        QUEUE, data, conn=conn, singleton_key=f"user-{user_id}", start_after=delay
    )


async def install_schedule(queue: JobQueue) -> bool:
    """Create the nightly schedule unless it exists (re-creating it could skip a tick)."""
    data = Args(all=True).to_data()
    return await schedules.install_once(
        queue, QUEUE, NIGHTLY_CRON, data, key=NIGHTLY_KEY, priority=priorities.BULK
    )


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        if args.all:
            return await _fan_out(deps)
        assert args.user_id is not None
        return await recompute_user(deps, clock, args.user_id)

    return handle


async def recompute_user(deps: JobDeps, clock: Clock, user_id: int) -> dict[str, Any]:
    """Recompute, schedule the changed reminders and cancel the closed ones, in one
    transaction; then the digest event when the user wants one."""
    now = clock.now()
    async with deps.pool.connection() as conn, conn.transaction():
        result = await followups_service.recompute(conn, user_id, now)
        await followup_reminder.schedule(deps.queue, result.reschedule, conn=conn)
        await followup_reminder.cancel(deps.queue, result.closed, conn=conn)
        digest = await followups_service.record_digest(conn, user_id, now)
    output = {**result.as_output(), "user_id": user_id, "digest": digest is not None}
    log.info("follow-ups recomputed", extra={"action": "followups.recomputed", **output})
    return output


async def _fan_out(deps: JobDeps) -> dict[str, Any]:
    async with deps.pool.connection() as conn:
        users = await followups_repo.users_to_recompute(conn)
    specs = [
        {
            "data": Args(user_id=u).to_data(),
            "singleton_key": f"user-{u}",
            "priority": priorities.BULK,
        }
        for u in users
    ]
    sent = await deps.queue.insert_many(QUEUE, specs) if specs else []
    return {"users": len(users), "jobs": len(sent)}
