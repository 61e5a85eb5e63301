"""The `dispatch-webhooks` job: hand the pending outgoing events (`crm.outgoing_events`) to the
webhooks that subscribe to them, each delivery a `deliver-webhook` job sent in the same
transaction. Runs every 10 seconds (a cron schedule) and whenever asked (`kick`).

Payload `{}`. One runs at a time (stately, and an advisory lock in the transaction), so
deliveries are made in event order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.webhooks import repo as webhooks_repo
from fluffymail.jobs import deliver_webhook, kinds, schedules
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = ["CRON", "QUEUE", "QUEUE_OPTIONS", "dispatch", "install_schedule", "kick", "make_handler"]

QUEUE = kinds.DISPATCH_WEBHOOKS
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",  # one queued and one running
    "retry_limit": 5,
    "retry_delay": 5,
    "retry_backoff": True,
    "retention": 3600,  # a run every 10 s: keep an hour of them
}
CRON = "*/10 * * * * *"  # every 10 seconds (6 fields: seconds first)
KEY = "dispatch"
BATCH = 500  # events per transaction
log = logging.getLogger(__name__)


async def kick(queue: JobQueue, *, conn: Any = None) -> int | None:
    """Ask for a dispatch now (joins the one queued, if any)."""
    return await queue.send(QUEUE, {}, conn=conn, singleton_key=KEY)


async def install_schedule(queue: JobQueue) -> bool:
    """Create the 10-second schedule unless it exists."""
    return await schedules.install_once(queue, QUEUE, CRON, {}, key=KEY)


async def dispatch(deps: JobDeps) -> dict[str, int]:
    """Hand every pending event over, a batch per transaction: the deliveries and their jobs
    exist together or not at all."""
    events = deliveries = 0
    while True:
        async with deps.pool.connection() as conn, conn.transaction():
            await webhooks_repo.lock_dispatch(conn)
            taken, made = await webhooks_repo.dispatch_events(conn, BATCH)
            await deliver_webhook.enqueue(deps.queue, made, conn=conn)
        events, deliveries = events + taken, deliveries + len(made)
        if taken < BATCH:
            break
    if events:
        log.info(
            "webhook events dispatched",
            extra={"action": "webhooks.dispatched", "events": events, "deliveries": deliveries},
        )
    return {"events": events, "deliveries": deliveries}


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    async def handle(job: Job) -> dict[str, int]:
        return await dispatch(deps)

    return handle
