"""The `analyze-relationships` job: score a user's relationships from their new mail.

Payload `{"user_id": id}` (incremental: mail above the user's cursor), with `"full": true`
(rebuild from all mail) or `"rescore": true` (recompose stored scores at now, for decay), or
`{"rescore_all": true}` (the nightly cron: one rescore job per analysed user, each folding
any mail still pending first). Summaries of
changed relationships and introductions of new contacts are enqueued/recorded in the same
transaction as the scores. Mail not yet extracted is left pending: a sync's workflow run of the
user analyses it once the run's batches are done; with no such run, another analysis is queued
for `analyze_debounce` later (a batch that catches extraction up starts it at once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.relationships import analysis, network, summary_demand
from fluffymail.crm.relationships import repo as relationships_repo
from fluffymail.jobs import (
    kinds,
    planner_stats,
    priorities,
    recompute_followups,
    schedules,
    summarize_relationship,
)
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue, UnknownQueueError

__all__ = [
    "NIGHTLY_CRON",
    "QUEUE",
    "QUEUE_OPTIONS",
    "Args",
    "analyze_now",
    "enqueue",
    "extraction_done",
    "hurry",
    "install_schedule",
    "make_handler",
]

QUEUE = kinds.ANALYZE_RELATIONSHIPS
QUEUE_OPTIONS: dict[str, Any] = {
    "policy": "stately",  # one queued + one running analysis per user (singleton key)
    "retry_limit": 3,
    "retry_delay": 30,
    "retry_backoff": True,
}
NIGHTLY_CRON = "17 3 * * *"  # UTC: every stored score decays to the new day
NIGHTLY_KEY = "nightly-rescore"
DEBOUNCE_SECONDS = 30  # a burst of syncs for one user analyses once
UNFINISHED = ["created", "retry", "active"]
SYNC_SCAN = 1000  # the newest unfinished syncs looked at (at most one queued per connection)
log = logging.getLogger(__name__)


class ArgsError(ValueError):
    """The job's payload is not an analyze-relationships payload."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    user_id: int | None = None
    full: bool = False
    rescore: bool = False
    rescore_all: bool = False

    @classmethod
    def from_data(cls, data: Any) -> Args:
        if not isinstance(data, dict):
            raise ArgsError(f"payload must be an object, got {data!r}")
        if data.get("rescore_all"):
            return cls(rescore_all=True)
        if not isinstance(data.get("user_id"), int) or isinstance(data.get("user_id"), bool):
            raise ArgsError(f"payload needs an integer user_id, got {data!r}")
        args = cls(
            user_id=data["user_id"], full=bool(data.get("full")), rescore=bool(data.get("rescore"))
        )
        if args.full and args.rescore:
            raise ArgsError("full and rescore exclude each other")
        return args

    def to_data(self) -> dict[str, Any]:
        if self.rescore_all:
            return {"rescore_all": True}
        extra = {"full": True} if self.full else {"rescore": True} if self.rescore else {}
        return {"user_id": self.user_id, **extra}


async def enqueue(
    queue: JobQueue,
    user_id: int,
    *,
    conn: Any = None,
    debounce: int = DEBOUNCE_SECONDS,
    full: bool = False,
) -> int | None:
    """Ask for an analysis of `user_id` in `debounce` seconds; None when one is already queued.

    The singleton key makes every request until the queued job starts share it. A full
    rebuild is bulk history work and waits behind the incremental analyses of new mail.
    """
    key = f"user-{user_id}-full" if full else f"user-{user_id}"
    data = Args(user_id=user_id, full=full).to_data()
    priority = priorities.BULK if full else priorities.BACKGROUND
    return await queue.send(
        QUEUE, data, conn=conn, singleton_key=key, start_after=debounce, priority=priority
    )


async def hurry(queue: JobQueue, user_id: int, *, conn: Any) -> None:
    """Analyse `user_id`'s new mail now: an incremental analysis already queued and waiting
    for its debounce starts at once instead (a running one finishes first)."""
    key = f"user-{user_id}"
    if await queue.send(QUEUE, Args(user_id=user_id).to_data(), conn=conn, singleton_key=key):
        return
    await queue.hurry(QUEUE, key, conn=conn)


async def extraction_done(queue: JobQueue, user_id: int, *, conn: Any) -> bool:
    """Extraction has caught up with the user's mail: an analysis waiting for it (queued for
    `analyze_debounce` when it found mail not yet extracted) runs now; none is sent."""
    return bool(await queue.hurry(QUEUE, f"user-{user_id}", conn=conn))


async def install_schedule(queue: JobQueue) -> bool:
    """Create the nightly rescore schedule unless it exists (re-creating it could skip a tick)."""
    data = Args(rescore_all=True).to_data()
    return await schedules.install_once(
        queue, QUEUE, NIGHTLY_CRON, data, key=NIGHTLY_KEY, priority=priorities.BULK
    )


def make_handler(deps: JobDeps, clock: Clock) -> Callable[[Job], Any]:
    """Analyse, rescore or fan out, by payload; the first job of a process installs the cron."""
    installed: list[bool] = []

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        if not installed:
            await install_schedule(deps.queue)
            installed.append(True)
        if args.rescore_all:
            return await _fan_out(deps)
        assert args.user_id is not None
        if args.rescore:
            # fold first whatever is still pending (a lost job, or 0019's rebuild after the
            # upgrade), so no figure says "updating…" past the night (issue 12)
            folded = await _analyze(deps, clock, args.user_id, full=False)
            async with deps.pool.connection() as conn:
                rescored = await analysis.rescore_user(conn, args.user_id, now=clock.now())
            return {**rescored.as_output(), "folded": folded["contacts"]}
        return await _analyze(deps, clock, args.user_id, full=args.full)

    return handle


async def analyze_now(deps: JobDeps, clock: Clock, user_id: int) -> dict[str, Any]:
    """Analyse `user_id`'s new mail in this process now, as the job would (a sync's workflow
    run, once its extraction is done); the analysis lock keeps it apart from a running job."""
    return await _analyze(deps, clock, user_id, full=False)


async def _analyze(deps: JobDeps, clock: Clock, user_id: int, *, full: bool) -> dict[str, Any]:
    await planner_stats.refresh(deps.pool, planner_stats.MAIL_TABLES + planner_stats.CONTACT_TABLES)
    async with deps.pool.connection() as conn, conn.transaction():
        result = await analysis.analyze_user(conn, user_id, now=clock.now(), full=full)
        introductions = await network.record_introductions(conn, user_id, result.new_contact_ids)
        demand = summary_demand.Demand(top=deps.settings.summary_top)
        readers = await summary_demand.wanted(conn, user_id, result.changed_contact_ids, demand)
        summaries = await summarize_relationship.enqueue_many(
            deps.queue, user_id, readers, conn=conn
        )
        await _recompute_followups(deps.queue, user_id, conn)
        again = bool(result.pending) and not await _a_run_will_analyse(deps.queue, user_id)
        if again:
            await deps.queue.send(
                QUEUE,
                Args(user_id=user_id).to_data(),
                conn=conn,
                singleton_key=f"user-{user_id}",
                start_after=deps.settings.analyze_debounce,
            )
    if again:
        await _start_if_caught_up(deps, clock, user_id)
    output = {**result.as_output(), "introductions": introductions, "summaries": summaries}
    log.info("relationships analysed", extra={"action": "relationships.analyzed", **output})
    return output


async def _a_run_will_analyse(queue: JobQueue, user_id: int) -> bool:
    """A sync of the user is queued, running or waiting for its extraction: its workflow run
    analyses once its batches are extracted, folding the mail this analysis left pending, so
    no analysis is queued to wait for it (the import path has no "wait for extraction" loop)."""
    syncs = await queue.find_jobs(name=kinds.SYNC_EMAILS, states=UNFINISHED, limit=SYNC_SCAN)
    return any(isinstance(job.data, dict) and job.data.get("user_id") == user_id for job in syncs)


async def _start_if_caught_up(deps: JobDeps, clock: Clock, user_id: int) -> None:
    """The run left mail for later that extraction had not reached: the next run waits for
    the batch that finishes it (extract-contacts hurries it). Checked again after this run's
    commit, since that batch may have finished while this run was going (it found no queued
    run to hurry then)."""
    stale_before = clock.now() - analysis.STALE_AFTER
    async with deps.pool.connection() as conn, conn.transaction():
        if await relationships_repo.extraction_caught_up(conn, user_id, stale_before):
            await extraction_done(deps.queue, user_id, conn=conn)


async def _recompute_followups(queue: JobQueue, user_id: int, conn: Any) -> None:
    """New scores and mail change what is due: recompute the user's follow-ups (when that
    job kind is registered)."""
    try:
        await recompute_followups.enqueue(queue, user_id, conn=conn)
    except UnknownQueueError:
        pass


async def _fan_out(deps: JobDeps) -> dict[str, Any]:
    """One rescore job per analysed user (each retried on its own)."""
    async with deps.pool.connection() as conn:
        users = await relationships_repo.analyzed_users(conn)
    specs = [
        {
            "data": Args(user_id=u, rescore=True).to_data(),
            "singleton_key": f"rescore-{u}",
            "priority": priorities.BULK,
        }
        for u in users
    ]
    sent = await deps.queue.insert_many(QUEUE, specs) if specs else []
    return {"users": len(users), "rescore_jobs": len(sent)}
