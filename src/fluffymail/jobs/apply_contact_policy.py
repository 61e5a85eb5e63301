"""The `apply-contact-policy` job: re-apply a connection's changed creation policy to its mail
already extracted, so loosening it shows the people it held back and tightening it hides the
contacts that no longer qualify (never those the user added or worked on).

Sent by a policy change in the same transaction (`enqueue`, one queued per connection). Works
in batches of messages, one transaction each; re-running it changes nothing. While some of
the connection's mail is still being extracted it runs again shortly after (a batch planned
under the old policy may land meanwhile), for at most `SETTLE_SECONDS`. Then it asks
`analyze-relationships` to rescore the user and `enrich-contact` to enrich the contacts it showed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.contacts import policy
from fluffymail.jobs import analyze_relationships, kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.jobs.extract_contacts import enqueue_enrichment
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.outcomes import Snooze

__all__ = ["QUEUE", "QUEUE_OPTIONS", "Args", "apply_policy", "enqueue", "make_handler"]

QUEUE = kinds.APPLY_CONTACT_POLICY
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",  # one queued and one running per connection: a later change re-runs
    "retry_limit": 5,
    "retry_delay": 10,
    "retry_backoff": True,
}
SETTLE_SECONDS = 3600  # how long the job waits for the connection's extraction to finish
SNOOZE_SECONDS = 15
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


@dataclass(slots=True, kw_only=True)
class ApplyResult:
    messages: int = 0
    batches: int = 0
    shown: set[int] = field(default_factory=set)
    hidden: set[int] = field(default_factory=set)
    pending: int = 0  # messages of the connection not yet extracted when it finished

    def as_output(self) -> dict[str, Any]:
        return {
            "replanned": self.messages,
            "batches": self.batches,
            "contacts_shown": len(self.shown),
            "contacts_hidden": len(self.hidden),
            "pending": self.pending,
        }


async def ensure_queue(queue: JobQueue) -> None:
    """Create the queue with the job's options when no worker has yet."""
    if QUEUE not in await queue.get_queues():
        await queue.create_queue(QUEUE, **QUEUE_OPTIONS)


async def enqueue(queue: JobQueue, args: Args, *, conn: Any = None) -> int | None:
    """Send the re-application; None when one is already queued for this connection."""
    key = f"connection-{args.connection_id}"
    return await queue.send(QUEUE, args.to_data(), conn=conn, singleton_key=key)


async def apply_policy(deps: JobDeps, clock: Clock, args: Args) -> ApplyResult:
    """Re-plan every extracted message of the connection, batch by batch."""
    result, after_id = ApplyResult(), 0
    while True:
        async with deps.pool.connection() as conn, conn.transaction():
            batch = await policy.reapply_batch(
                conn, args.user_id, args.connection_id, after_id=after_id, now=clock.now()
            )
        if batch.last_id is None:
            break
        after_id, result.batches = batch.last_id, result.batches + 1
        result.messages += batch.messages
        result.shown |= set(batch.shown)
        result.hidden |= set(batch.hidden)
    async with deps.pool.connection() as conn, conn.transaction():
        result.pending = await policy.pending(conn, args.user_id, args.connection_id)
        if result.shown or result.hidden:
            await analyze_relationships.enqueue(deps.queue, args.user_id, conn=conn, debounce=0)
        debounce = deps.settings.enrich_debounce  # contacts shown now are enriched, as new ones
        await enqueue_enrichment(
            deps.queue, sorted(result.shown), user_id=args.user_id, conn=conn, debounce=debounce
        )
    return result


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Apply the policy; run again shortly while the connection's mail is still extracted."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        result = await apply_policy(deps, clock, args)
        log.info(
            "contact policy applied",
            extra={"action": "contacts.policy_applied", "job_id": job.id,
                   "connection_id": args.connection_id, **result.as_output()},
        )  # fmt: skip
        age = (clock.now() - job.created_on).total_seconds() if job.created_on else 0
        if result.pending and age < SETTLE_SECONDS:
            raise Snooze(SNOOZE_SECONDS)
        async with deps.pool.connection() as conn:
            explained = await policy.explain(conn, args.user_id, args.connection_id)
        output = result.as_output()
        return {**output, **(explained.as_output() if explained else {})}

    return handle
