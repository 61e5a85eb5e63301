"""The `analyze-relationships` job, for now only recording when it last ran for a user.

Placeholder until relationship scoring lands: it sets `crm.users.relationships_analyzed_on`
and scores nothing. Senders use the singleton key `user-<id>` (one per user at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job

QUEUE = "analyze-relationships"
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",
    "retry_limit": 3,
    "retry_delay": 30,
    "retry_backoff": True,
}


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Record the analysis time on the user (payload `{"user_id": id}`)."""

    async def handle(job: Job) -> dict[str, Any]:
        user_id = int(job.data["user_id"])
        async with deps.pool.connection() as conn:
            marked = await mail_repo.mark_relationships_analyzed(conn, user_id, clock.now())
        return {"analyzed": marked}

    return handle
