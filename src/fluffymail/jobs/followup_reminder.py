"""The `followup-reminder` job: a follow-up's reminder, sent to start at its due time.

Payload `{"followup_id": id}`, singleton key `followup-<id>`: re-scheduling replaces the
queued job (`JobQueue.replace`), so one reminder is pending per follow-up, and the handler
claims the reminder in the database, so it fires once however many workers run. Firing
records a `followup.due` outgoing event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups import service as followups_service
from fluffymail.crm.followups.models import Reminder
from fluffymail.jobs import kinds, priorities
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = ["QUEUE", "QUEUE_OPTIONS", "Args", "cancel", "make_handler", "schedule"]

QUEUE = kinds.FOLLOWUP_REMINDER
QUEUE_OPTIONS: dict[str, Any] = {"retry_limit": 5, "retry_delay": 30, "retry_backoff": True}
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    followup_id: int

    @classmethod
    def from_data(cls, data: Any) -> Args:
        value = data.get("followup_id") if isinstance(data, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"payload needs an integer followup_id, got {data!r}")
        return cls(followup_id=value)

    def to_data(self) -> dict[str, Any]:
        return {"followup_id": self.followup_id}

    @property
    def key(self) -> str:
        return key_of(self.followup_id)


def key_of(followup_id: int) -> str:
    return f"followup-{followup_id}"


async def schedule(queue: JobQueue, reminders: Iterable[Reminder], *, conn: Any = None) -> int:
    """(Re)schedule each reminder at its time, replacing the one queued for that follow-up."""
    sent = 0
    for reminder in reminders:
        args = Args(followup_id=reminder.followup_id)
        await queue.replace(
            QUEUE,
            args.to_data(),
            singleton_key=args.key,
            start_after=reminder.at,
            priority=priorities.BACKGROUND,
            conn=conn,
        )
        sent += 1
    return sent


async def cancel(queue: JobQueue, followup_ids: Iterable[int], *, conn: Any = None) -> int:
    """Cancel the queued reminders of follow-ups that closed."""
    keys = [key_of(i) for i in followup_ids]
    return len(await queue.cancel_queued(QUEUE, keys, conn=conn))


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Fire the reminder if it is due; if it moved later meanwhile, send it again for then."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        now = clock.now()
        async with deps.pool.connection() as conn, conn.transaction():
            fired = await followups_service.fire_reminder(conn, args.followup_id, now)
            if fired is not None:
                log.info(
                    "follow-up due",
                    extra={"action": "followups.reminded", "followup_id": args.followup_id},
                )
                return {"fired": True}
            later = await followups_repo.reminder_due(conn, args.followup_id)
        if later is not None and later > now:
            await schedule(deps.queue, [Reminder(followup_id=args.followup_id, at=later)])
            return {"fired": False, "rescheduled": later.isoformat()}
        return {"fired": False}

    return handle
