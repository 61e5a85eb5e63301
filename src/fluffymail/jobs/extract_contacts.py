"""The `extract-contacts` job, for now only marking a message as processed.

Placeholder until the contacts issue lands: it records `crm.messages.processed_on` and
extracts nothing (no contact logic is faked here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job

QUEUE = "extract-contacts"
QUEUE_OPTIONS: dict[str, Any] = {"retry_limit": 3, "retry_delay": 10, "retry_backoff": True}


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Mark the job's message processed (payload `{"message_id": id}`)."""

    async def handle(job: Job) -> dict[str, Any]:
        message_id = int(job.data["message_id"])
        async with deps.pool.connection() as conn:
            marked = await mail_repo.mark_messages_processed(conn, [message_id], clock.now())
        return {"processed": marked}

    return handle
