"""The `deliver-webhook` job: POST one event to one webhook, signed (Standard Webhooks), and
log the attempt. A failed attempt raises, so the queue retries it with exponential backoff
(12 retries from 10 s up to an hour apart: about 2 to 4.5 hours in all) and then moves it to
the `deliver-webhook-dead` queue, whose job marks the delivery failed.

Payload `{"delivery_id": id}`, group key `webhook-<id>:<subject>` with group concurrency 1:
deliveries of one webhook and contact never run at once, and a delivery waits (snoozes, no
attempt spent) while an earlier one of its group is still pending, so they arrive in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm import secrets
from fluffymail.crm.webhooks import repo as webhooks_repo
from fluffymail.crm.webhooks import signing
from fluffymail.crm.webhooks.models import DeliveryState, Dispatched, Outgoing, Result
from fluffymail.integrations import webhook_http
from fluffymail.jobs import kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.outcomes import Snooze

__all__ = [
    "DEAD_LETTER",
    "QUEUE",
    "QUEUE_OPTIONS",
    "Args",
    "DeliveryFailed",
    "enqueue",
    "group_key",
    "make_handler",
]

QUEUE = kinds.DELIVER_WEBHOOK
DEAD_LETTER = kinds.DELIVER_WEBHOOK_DEAD
QUEUE_OPTIONS: dict[str, Any] = {
    "retry_limit": 12,
    "retry_delay": 10,
    "retry_backoff": True,  # 10 s, 20 s, 40 s … capped at an hour, each with jitter (x 0.5–1)
    "retry_delay_max": 3600,
    "expire_in": 120,
    "group_concurrency": 1,
    "dead_letter": DEAD_LETTER,
}
LIVE = ("created", "retry", "active")
log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not take the event (the queue retries it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    delivery_id: int

    @classmethod
    def from_data(cls, data: Any) -> Args:
        value = data.get("delivery_id") if isinstance(data, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"payload needs an integer delivery_id, got {data!r}")
        return cls(delivery_id=value)

    def to_data(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id}


def group_key(webhook_id: int, subject: str) -> str:
    return f"webhook-{webhook_id}:{subject}"


async def enqueue(queue: JobQueue, made: Sequence[Dispatched], *, conn: Any) -> int:
    """One job per delivery, in the caller's transaction, each job's id kept on its delivery."""
    jobs = []
    for d in made:
        job_id = await queue.send(
            QUEUE,
            Args(delivery_id=d.delivery_id).to_data(),
            conn=conn,
            group_key=group_key(d.webhook_id, d.subject),
        )
        assert job_id is not None  # no singleton key: never deduplicated
        jobs.append((d.delivery_id, job_id))
    if jobs:
        await webhooks_repo.set_jobs(conn, jobs)
    return len(jobs)


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Deliver unless delivered already; wait behind an earlier pending delivery."""
    box = secrets.open_box(deps.settings)
    rules = webhook_http.policy(deps.settings)

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        async with deps.pool.connection() as conn:
            found = await webhooks_repo.outgoing(conn, args.delivery_id)
        if found is None:
            return {"status": "gone"}  # its webhook was deleted
        if found.state is DeliveryState.DELIVERED:
            return {"status": "delivered already"}
        if (wait := await _wait_for_earlier(deps, found, clock.now())) is not None:
            raise Snooze(wait)
        if not found.enabled:
            await _give_up(deps, found, clock.now(), "the webhook is turned off")
            return {"status": "disabled"}
        result = await _send(found, box, rules, clock.now())
        final = not result.ok and job.retry_count >= job.retry_limit
        async with deps.pool.connection() as conn:
            state = await webhooks_repo.record_attempt(
                conn,
                found.delivery_id,
                now=clock.now(),
                status=result.status,
                duration_ms=result.duration_ms,
                error=result.error,
                ok=result.ok,
                final=final,
            )
        _log(found, result, state)
        if not result.ok:
            raise DeliveryFailed(result.error or "not delivered")
        return {"status": result.status, "ms": result.duration_ms}

    return handle


async def _send(found: Outgoing, box: secrets.SecretBox, rules: Any, now: datetime) -> Result:
    secret = box.decrypt(found.secret).decode("ascii")
    body = signing.body(found.kind, found.event_on, found.payload)
    headers = signing.headers(secret, found.message_id, int(now.timestamp()), body)
    return await webhook_http.post(found.url, body, headers, rules)


async def _wait_for_earlier(deps: JobDeps, found: Outgoing, now: datetime) -> float | None:
    """Seconds to wait for the oldest earlier pending delivery of this webhook and subject (until
    its next attempt), or None to go ahead. One that no job will attempt again (its job ended
    or was cancelled without saying so) is marked failed and no longer waited for."""
    async with deps.pool.connection() as conn:
        earlier = await webhooks_repo.earlier_pending(conn, found)
    abandoned = []
    wait = None
    for delivery_id, job_id in earlier:
        job = await deps.queue.get_job(job_id) if job_id is not None else None
        if job is not None and job.state in LIVE:
            wait = _until(job, now)
            break
        abandoned.append(delivery_id)
    if abandoned:
        async with deps.pool.connection() as conn:
            await webhooks_repo.give_up(conn, abandoned, now, "no attempt left")
    return wait


def _until(job: Job, now: datetime) -> float:
    """Until just after the job's next attempt (a couple of seconds while it runs)."""
    if job.state == "active" or job.start_after is None:
        return 2.0
    return min(max((job.start_after - now).total_seconds() + 1.0, 1.0), 3600.0)


async def _give_up(deps: JobDeps, found: Outgoing, now: datetime, why: str) -> None:
    async with deps.pool.connection() as conn:
        await webhooks_repo.give_up(conn, [found.delivery_id], now, why)


def _log(found: Outgoing, result: Result, state: str | None) -> None:
    log.info(
        "webhook delivered" if result.ok else "webhook delivery failed",
        extra={
            "action": "webhooks.delivered" if result.ok else "webhooks.failed",
            "delivery_id": found.delivery_id,
            "webhook_id": found.webhook_id,
            "kind": found.kind,
            "status": result.status,
            "ms": result.duration_ms,
            "error": result.error,
            "state": state,
        },
    )
