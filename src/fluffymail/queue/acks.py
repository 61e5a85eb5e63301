"""Why the database did not take a worker's completion, told truthfully (issue 16, item 7).

A completion is refused when its lease is stale (the job was cancelled, deleted, failed by the
rescuer, or claimed again). But a completion whose round trip committed and whose reply was
lost is re-sent and then matches nothing either: the job is already `completed` by this very
attempt. Looking the jobs up tells the two apart; only the first is a refusal. Log actions:
`queue.ack_recorded` (info), `queue.stale_ack` (warning, with a `reason`) and, when the lookup
itself fails, `queue.ack_unconfirmed`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fluffymail.queue.events import Events
from fluffymail.queue.job import Job, JobState, Lease
from fluffymail.queue.store import Store

Ack = tuple[Job, Any, float]  # job, output, seconds the handler took


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What became of a completion the database did not take."""

    recorded: bool  # True: it had been recorded already (the first reply was lost)
    reason: str  # lost_reply, deleted, cancelled, reclaimed, failed, stale
    message: str


def classify(lease: Lease, found: tuple[int, str] | None) -> Verdict:
    """The verdict for `lease`, given the job's (current attempt, state) or None if it is gone."""
    if found is None:
        return _refused("deleted", "the job no longer exists")
    attempt, state = found
    if attempt != lease.attempt:
        return _refused(
            "reclaimed", f"the job was released or rescued and is now at attempt {attempt}"
        )
    if state == JobState.COMPLETED:
        return Verdict(
            recorded=True,
            reason="lost_reply",
            message="completion already recorded (the first reply was lost)",
        )
    if state == JobState.CANCELLED:
        return _refused("cancelled", "the job was cancelled")
    if state in (JobState.RETRY, JobState.FAILED):
        return _refused("failed", "the attempt was failed first (it expired or counted as lost)")
    return _refused("stale", f"the attempt's lease is no longer current (job {state})")


def _refused(reason: str, why: str) -> Verdict:
    return Verdict(recorded=False, reason=reason, message=f"completion refused: {why}")


async def explain(store: Store, acks: list[Ack], events: Events, log: logging.Logger) -> None:
    """Log what became of each completion in `acks` (none was taken by the last round trip);
    the ones recorded earlier get their `completed` event now. Never raises."""
    try:
        states = await store.lease_states([job.id for job, _, _ in acks])
    except Exception as exc:
        for job, _, _ in acks:
            log.warning(
                "completion not confirmed: refused, or recorded with its reply lost "
                "(the job could not be looked up)",
                extra={**_fields(job), "action": "queue.ack_unconfirmed", "error": repr(exc)},
            )
        return
    for job, output, duration in acks:
        verdict = classify(job.lease, states.get(job.id))
        if verdict.recorded:
            log.info(verdict.message, extra={**_fields(job), "action": "queue.ack_recorded"})
            events.emit("completed", job=job, output=output, duration=duration)
        else:
            log.warning(
                verdict.message,
                extra={**_fields(job), "action": "queue.stale_ack", "reason": verdict.reason},
            )


def _fields(job: Job) -> dict[str, Any]:
    return {"job_id": job.id, "attempt": job.attempt, "queue": job.name}
