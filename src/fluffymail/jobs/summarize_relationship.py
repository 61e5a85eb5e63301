"""The `summarize-relationship` job: one (user, contact) relationship summary, AI or extractive.

Payload `{"user_id": id, "contact_id": id}`; `analyze-relationships` sends it through
`enqueue_many` for contacts whose relationship changed (one queued job per pair, users served
round-robin). The work is in `crm.relationships.summarizing`; providers come from `deps`.

Outcomes: a 429 snoozes the job and pauses the whole queue for Retry-After (one API key serves
every user), no attempt spent; a
timeout or 5xx fails the attempt (retried with backoff; after the last one a failed analysis is
stored); an invalid answer or an invented citation is retried once by the provider, then stored
as a failed analysis and the job completes. Over the daily token budget the offline summary is
stored now and the job snoozes until the next UTC midnight for the AI one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.relationships import summaries, summarizing
from fluffymail.integrations import llm
from fluffymail.jobs import kinds, priorities
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.outcomes import Snooze

__all__ = ["QUEUE", "QUEUE_OPTIONS", "enqueue_many", "make_handler"]

QUEUE = kinds.SUMMARIZE_RELATIONSHIP
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
    queue: JobQueue,
    user_id: int,
    contact_ids: Sequence[int],
    *,
    conn: Any = None,
    priority: int = priorities.BACKGROUND,
) -> int:
    """Send one job per contact (in `conn`'s transaction when given); returns how many were new.

    A contact that already has a queued job is skipped by its singleton key.
    """
    specs = [
        {
            "data": {"user_id": user_id, "contact_id": c},
            "priority": priority,
            **job_options(user_id, c),
        }
        for c in sorted(set(contact_ids))
    ]
    return len(await queue.insert_many(QUEUE, specs, conn=conn)) if specs else 0


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Summarise the job's (user, contact) relationship (payload `{"user_id", "contact_id"}`)."""
    external, offline = engines(deps, clock)
    policy = summarizing.Policy(
        daily_token_budget=deps.settings.ai_daily_token_budget,
        input_token_budget=deps.settings.ai_input_token_budget,
    )

    async def handle(job: Job) -> dict[str, Any]:
        user_id, contact_id = _payload(job)
        async with deps.pool.connection() as conn, conn.transaction():
            plan = await summarizing.prepare(
                conn,
                user_id=user_id,
                contact_id=contact_id,
                external=external,
                offline=offline,
                policy=policy,
                now=clock.now(),
            )
        output = await _run(deps, clock, job, plan) if plan.engine else _skipped(plan)
        log.info("relationship summarised", extra={"action": "relationships.summarized", **output})
        if plan.ai_deferred_until is not None:
            raise Snooze(max((plan.ai_deferred_until - clock.now()).total_seconds(), 1.0))
        return output

    return handle


def engines(deps: JobDeps, clock: Clock) -> tuple[summarizing.Engine | None, summarizing.Engine]:
    """(the external engine or None, the offline one): deps' provider, else the settings'."""
    offline = summarizing.Engine(
        provider=llm.ExtractiveProvider(),
        generated_by=llm.ExtractiveProvider.generated_by,
        prompt_version=llm.ExtractiveProvider.prompt_version,
        external=False,
    )
    if not deps.settings.external_ai:
        return None, offline
    provider = deps.summary_provider or llm.provider_from_settings(deps.settings, clock)
    if provider is None:
        return None, offline
    external = summarizing.Engine(
        provider=provider,
        generated_by=str(getattr(provider, "model", type(provider).__name__)),
        prompt_version=str(getattr(provider, "prompt_version", llm.PROMPT_VERSION)),
        external=True,
        max_output_tokens=int(getattr(provider, "max_output_tokens", 800)),
    )
    return external, offline


def _payload(job: Job) -> tuple[int, int]:
    data = job.data if isinstance(job.data, dict) else {}
    try:
        return int(data["user_id"]), int(data["contact_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"summarize-relationship needs {{'user_id': int, 'contact_id': int}}, got {job.data!r}"
        ) from exc


async def _run(deps: JobDeps, clock: Clock, job: Job, plan: summarizing.Plan) -> dict[str, Any]:
    """Call the engine (no connection held meanwhile), then store what came of it."""
    assert plan.engine is not None and plan.request is not None
    try:
        summary = await plan.engine.provider.summarize(plan.request)
    except llm.SummaryFailed as exc:
        return await _store_failure(deps, clock, plan, exc.reason, exc.usage)
    except llm.ProviderUnavailable as exc:
        if job.retry_count < job.retry_limit:
            await _release(deps, plan)
            raise
        return await _store_failure(deps, clock, plan, f"{exc} (after {job.attempt} attempts)")
    except BaseException:  # Snooze, cancellation, a bug: the reserved tokens were not spent
        await _release(deps, plan)
        raise
    async with deps.pool.connection() as conn, conn.transaction():
        status = await summarizing.store_summary(conn, plan, summary, clock.now())
    return _output(plan, status, tokens=summary.usage.total_tokens)


async def _store_failure(
    deps: JobDeps,
    clock: Clock,
    plan: summarizing.Plan,
    reason: str,
    usage: summaries.Usage | None = None,
) -> dict[str, Any]:
    usage = usage or summaries.Usage()
    async with deps.pool.connection() as conn, conn.transaction():
        await summarizing.store_failure(conn, plan, reason, usage, clock.now())
    return {**_output(plan, "failed", tokens=usage.total_tokens), "error": reason}


async def _release(deps: JobDeps, plan: summarizing.Plan) -> None:
    if plan.reservation is not None:
        async with deps.pool.connection() as conn:
            await summarizing.release(conn, plan)


def _output(plan: summarizing.Plan, status: str, *, tokens: int) -> dict[str, Any]:
    assert plan.engine is not None
    output = {
        "user_id": plan.user_id,
        "contact_id": plan.contact_id,
        "status": status,
        "generated_by": plan.engine.generated_by,
        "tokens": tokens,
    }
    return {**output, "note": plan.note} if plan.note else output


def _skipped(plan: summarizing.Plan) -> dict[str, Any]:
    output = {"user_id": plan.user_id, "contact_id": plan.contact_id, "status": "skipped"}
    return {**output, "reason": plan.skip_reason}
