"""The `extract-contacts` job: turn a batch of stored messages into contacts of their user.

Payload `{"message_ids": [...]}` (what `sync-emails` sends, one job per batch), the older
`{"message_id": id}`, or `{"repair_user_id": id, "released": [...]}` (sent when a batch
finds a new alias of the user, or finds that an address is no longer one: its mail is then
re-attributed). A batch first commits the aliases it reveals, then, in one transaction, its
contacts, links, counts, merges and the debounced `enrich-contact` follow-ups; during a first
import, while nothing is ranked yet, an `analyze-relationships` at once (a partial ranking).
A batch sent into a sync's workflow run (`"parent"` in its payload) reports to that run when
it ends (the run analyses once all its batches are done, then writes their search rows); any
other batch writes its messages' search rows and asks for the analysis itself once
extraction has caught up with the user's mail.
Re-running a job changes nothing.
Payload `{"sweep": true}` (the nightly cron): the messages still not extracted an hour after
they were stored (their batch's job failed for good) are sent again, `SWEEP_BATCH` per job, so
a message that fails every time holds back only the few beside it; the analysis that follows
folds their links in (it rebuilds the contacts whose mail below its cursor changed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg.errors

from fluffymail.clock import Clock
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.relationships import partial
from fluffymail.crm.relationships import repo as relationships_repo
from fluffymail.crm.relationships.analysis import STALE_AFTER
from fluffymail.jobs import (
    analyze_relationships,
    fairness,
    kinds,
    planner_stats,
    priorities,
    schedules,
    sweeps,
)
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue

__all__ = [
    "BATCH_SIZE",
    "NIGHTLY_CRON",
    "QUEUE",
    "SWEEP_BATCH",
    "Args",
    "enqueue_enrichment",
    "install_schedule",
    "make_handler",
]

QUEUE = kinds.EXTRACT_CONTACTS
BATCH_SIZE = 500  # message ids per job (sync-emails): fewer, larger transactions drain faster
ENRICH_DEBOUNCE_SECONDS = 60  # a burst of mail from one contact enriches it once
ENRICH_MAX_WAIT_FACTOR = 10  # ... at the latest this many windows after the burst began
QUEUE_OPTIONS: dict[str, Any] = {
    "fair": True,  # group key = user: a small mailbox is not queued behind a big one's batches
    "retry_limit": 3,
    "retry_delay": 10,
    "retry_backoff": True,
}
_CONFLICT_RETRIES = 3  # deadlocks between concurrent batches: retry the transaction here
NIGHTLY_CRON = "5 3 * * *"  # UTC, before the relationship rescore (3:17)
NIGHTLY_KEY = "nightly-sweep"
SWEEP_BATCH = 50  # message ids per job of the sweep: a poison message holds back 49 at most
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    message_ids: tuple[int, ...] = ()
    user_id: int | None = None  # whose messages (jobs sent before it was recorded lack it)
    repair_user_id: int | None = None
    released: tuple[str, ...] = ()
    in_run: bool = False  # sent into a sync's workflow run, which analyses once all are done
    sweep: bool = False  # the nightly sweep of messages left unextracted

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Args:
        if data.get("sweep") is True:
            return cls(sweep=True)
        if "repair_user_id" in data:
            released = tuple(str(a) for a in data.get("released", ()))
            return cls(repair_user_id=int(data["repair_user_id"]), released=released)
        user_id = int(data["user_id"]) if data.get("user_id") is not None else None
        if "message_ids" in data:
            ids = tuple(int(i) for i in data["message_ids"])
            return cls(
                message_ids=ids, user_id=user_id, in_run=isinstance(data.get("parent"), list)
            )
        return cls(message_ids=(int(data["message_id"]),), user_id=user_id)

    @property
    def owner(self) -> int | None:
        return self.repair_user_id if self.repair_user_id is not None else self.user_id


def batches(
    message_ids: Sequence[int], user_id: int, size: int = BATCH_SIZE
) -> list[dict[str, Any]]:
    """Job specs (payload and fairness key) for `user_id`'s `message_ids`, `size` ids per job."""
    return fairness.message_chunks(message_ids, user_id, size)


async def enqueue_enrichment(
    queue: JobQueue,
    contact_ids: Sequence[int],
    *,
    user_id: int | None,
    conn: Any,
    debounce: int,
) -> int:
    """One `enrich-contact` per contact, debounced: a contact seen again while its job waits
    pushes that job back by `debounce` seconds (the window starts again), but never past
    `ENRICH_MAX_WAIT_FACTOR` windows after its first send; keyed by the user for fairness.
    How many new jobs."""
    if not contact_ids:
        return 0
    items = [(f"contact-{cid}", {"contact_id": cid}) for cid in sorted(contact_ids)]
    return await queue.send_debounced_many(
        kinds.ENRICH_CONTACT,
        items,
        conn=conn,
        debounce=debounce,
        debounce_max=debounce * ENRICH_MAX_WAIT_FACTOR,
        group_key=fairness.user_group(user_id),
    )


def make_handler(
    deps: JobDeps, clock: Clock, *, enrich_debounce: int = ENRICH_DEBOUNCE_SECONDS
) -> Callable[[Job], Any]:
    """Extract the job's messages; deadlocks with a concurrent batch retry in place."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        if args.sweep:
            return await sweep(deps, clock)
        for attempt in range(1, _CONFLICT_RETRIES + 1):
            try:
                return await _extract(deps, clock, args, enrich_debounce)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                if attempt == _CONFLICT_RETRIES:
                    raise
                log.info(
                    "extraction conflict; retrying",
                    extra={
                        "action": "contacts.extract_retry",
                        "job_id": job.id,
                        "error": repr(exc),
                    },
                )
        raise AssertionError("unreachable")

    return handle


async def install_schedule(queue: JobQueue) -> bool:
    """Create the nightly sweep unless it exists."""
    data = {"sweep": True}
    return await schedules.install_once(
        queue, QUEUE, NIGHTLY_CRON, data, key=NIGHTLY_KEY, priority=priorities.BULK
    )


async def sweep(deps: JobDeps, clock: Clock) -> dict[str, Any]:
    """Send again, `SWEEP_BATCH` per job, every user's messages still not extracted
    `STALE_AFTER` after they were stored."""
    async with deps.pool.connection() as conn:
        left = await contacts_repo.stale_pending(conn, before=clock.now() - STALE_AFTER)
    return await sweeps.send_again(
        deps.queue, QUEUE, left, size=SWEEP_BATCH, log=log, action="contacts.swept"
    )


async def _extract(deps: JobDeps, clock: Clock, args: Args, debounce: int) -> dict[str, Any]:
    async with deps.pool.connection() as conn:
        if args.repair_user_id is not None:
            async with conn.transaction():
                result = await contacts_service.repair_aliases(
                    conn, args.repair_user_id, now=clock.now(), released=args.released
                )
                enqueued = await enqueue_enrichment(
                    deps.queue,
                    sorted(result.visible_touched),
                    user_id=args.owner,
                    conn=conn,
                    debounce=debounce,
                )
            return {**result.as_output(), "enrich_enqueued": enqueued}
        if not args.in_run:  # a sync left their search rows (0038); a run indexes its own
            async with conn.transaction():
                await mail_repo.index_for_search(conn, args.message_ids)
        async with conn.transaction():  # aliases and new contacts first: seen by all at once
            prepared = await contacts_service.prepare_batch(conn, args.message_ids, now=clock.now())
            await _request_repairs(deps.queue, sorted(prepared.new_aliases), conn=conn)
            await _request_releases(deps.queue, prepared.released, conn=conn)
        async with conn.transaction():
            result = await contacts_service.extract_prepared(conn, prepared, now=clock.now())
            await _rank_early(deps.queue, conn, args, clock)
            enqueued = await enqueue_enrichment(
                deps.queue,
                sorted(result.visible_touched),
                user_id=args.owner,
                conn=conn,
                debounce=debounce,
            )
        if not args.in_run:  # a run's batches: the run analyses once the last is done
            async with conn.transaction():
                await _analyse_if_caught_up(deps.queue, conn, args.owner, clock)
    await planner_stats.refresh(deps.pool, planner_stats.EXTRACTION_TABLES)
    output = {**result.as_output(), "enrich_enqueued": enqueued, **_note(result)}
    log.debug("contacts extracted", extra={"action": "contacts.extracted", **output})
    return output


async def _rank_early(queue: JobQueue, conn: Any, args: Args, clock: Clock) -> None:
    """During a first import (its read, or its run's extraction after the read), the mail
    extracted so far is ranked at once rather than when the import ends: a partial ranking
    within seconds (issue 19). Once something is ranked, the analyses follow the import as
    before."""
    user_id = args.owner
    if user_id is None:
        return
    if await partial.wants_early_ranking(conn, user_id, clock.now(), in_run=args.in_run):
        await analyze_relationships.hurry(queue, user_id, conn=conn)


async def _analyse_if_caught_up(
    queue: JobQueue, conn: Any, user_id: int | None, clock: Clock
) -> None:
    """After the batch commits: an analysis waiting for extraction runs as soon as none of the
    user's mail is left unextracted, not at its debounce (so 100 new messages are re-scored
    in seconds). Checked after the commit, so of two batches finishing together the later
    one sees the other's work."""
    if user_id is None:
        return
    stale_before = clock.now() - STALE_AFTER
    if await relationships_repo.extraction_caught_up(conn, user_id, stale_before):
        await analyze_relationships.extraction_done(queue, user_id, conn=conn)


def _note(result: contacts_service.ExtractResult) -> dict[str, str]:
    """Why people of this batch are not contacts, in words (issue 12: tell the user why)."""
    if not result.held_back:
        return {}
    n = len(result.held_back)
    who = "1 person" if n == 1 else f"{n:,} people"
    return {
        "note": f"{who} wrote to you and did not become contacts under the connection's"
        " creation policy; they become contacts once you write to them or when you add them"
    }


async def _request_repairs(queue: JobQueue, user_ids: Sequence[int], *, conn: Any) -> None:
    """One queued alias repair per user at a time (it re-reads every alias when it runs)."""
    for user_id in user_ids:
        key = f"aliases-{user_id}"
        data = {"repair_user_id": user_id}
        await queue.send(
            QUEUE, data, conn=conn, singleton_key=key, group_key=fairness.user_group(user_id)
        )


async def _request_releases(
    queue: JobQueue, released: dict[int, tuple[str, ...]], *, conn: Any
) -> None:
    """A repair per user that names the addresses released (never folded into another)."""
    for user_id, addresses in sorted(released.items()):
        data = {"repair_user_id": user_id, "released": list(addresses)}
        await queue.send(QUEUE, data, conn=conn, group_key=fairness.user_group(user_id))
