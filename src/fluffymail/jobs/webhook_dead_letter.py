"""The `deliver-webhook-dead` job: a delivery whose retries are spent (or whose last attempt
was lost) arrives here from `deliver-webhook`; it is marked failed in the delivery log, where
"Resend" sends it again. Payload: the `deliver-webhook` job's, `{"delivery_id": id}`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.webhooks import repo as webhooks_repo
from fluffymail.jobs import deliver_webhook
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job

__all__ = ["QUEUE", "QUEUE_OPTIONS", "make_handler"]

QUEUE = deliver_webhook.DEAD_LETTER
QUEUE_OPTIONS: dict[str, Any] = {"retry_limit": 5, "retry_delay": 10, "retry_backoff": True}
log = logging.getLogger(__name__)


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    async def handle(job: Job) -> dict[str, Any]:
        args = deliver_webhook.Args.from_data(job.data)
        async with deps.pool.connection() as conn:
            failed = await webhooks_repo.give_up(conn, [args.delivery_id], clock.now(), None)
        if failed:
            log.warning(
                "webhook delivery given up",
                extra={"action": "webhooks.dead", "delivery_id": args.delivery_id},
            )
        return {"failed": bool(failed)}

    return handle
