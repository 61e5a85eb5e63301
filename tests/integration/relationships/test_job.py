"""The analyze-relationships job through the queue: payloads, follow-ups, cron, debounce."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from fluffymail.clock import FrozenClock
from fluffymail.crm.relationships import summary_demand
from fluffymail.jobs import analyze_relationships, build_registry, summarize_relationship
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry

from .conftest import Load, Rows, exchange

QUEUE = analyze_relationships.QUEUE
ALICE = "alice@partner.example"
BOB = "bob@partner.example"
CAROL = "carol@partner.example"


async def run_one(queue: JobQueue, registry: Registry, job_id: int) -> dict[str, Any]:
    """Fetch and run queued analyze-relationships jobs until `job_id` is done; its output."""
    handler = registry[analyze_relationships.QUEUE].handler
    for _ in range(20):
        for job in await queue.fetch(analyze_relationships.QUEUE, batch_size=10):
            output = await handler(job)
            await queue.complete(job, output)
            if job.id == job_id:
                return output
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never ran")


async def test_job__analyses_records_introductions_and_requests_summaries(
    load: Load, queue: JobQueue, registry: Registry, rows: Rows
) -> None:
    user_id = await load(exchange(ALICE, "lunch", 5, replies=2) + exchange(BOB, "deal", 3))
    job_id, data = (await rows.all("SELECT id, data FROM queue.job WHERE name = %s", QUEUE))[0]
    assert data == {"user_id": user_id}  # sent by the end of the sync
    output = await run_one(queue, registry, job_id)
    assert (output["contacts"], output["new"], output["changed"]) == (2, 2, 2)
    assert output["summaries"] == 2 and output["introductions"] == 2
    assert await rows.one("SELECT count(*) FROM crm.relationships") == 2
    assert await rows.one("SELECT count(*) FROM crm.introductions") == 2
    queued = await rows.all(
        "SELECT data FROM queue.job WHERE name = %s ORDER BY id", summarize_relationship.QUEUE
    )
    assert len(queued) == 2
    schedules = await queue.get_schedules()
    assert any(
        s["name"] == analyze_relationships.QUEUE and s["data"] == {"rescore_all": True}
        for s in schedules
    )
    assert not await analyze_relationships.install_schedule(queue)  # already there


async def test_job__nightly_fans_out_rescores(
    load: Load, queue: JobQueue, registry: Registry, rows: Rows
) -> None:
    user_id = await load(exchange(ALICE, "lunch", 5, replies=2))
    first = await rows.one("SELECT id FROM queue.job WHERE name = %s", QUEUE)
    await run_one(queue, registry, first)
    nightly = await queue.send(analyze_relationships.QUEUE, {"rescore_all": True})
    assert nightly is not None
    assert await run_one(queue, registry, nightly) == {"users": 1, "rescore_jobs": 1}
    rescore_id = await rows.one(
        "SELECT id FROM queue.job WHERE name = %s AND data ? 'rescore'",
        analyze_relationships.QUEUE,
    )
    assert await run_one(queue, registry, rescore_id) == {
        "user_id": user_id,
        "rescored": 1,
        "folded": 0,
    }


async def test_job__nightly_rescore_folds_what_is_pending_first(
    load: Load, queue: JobQueue, registry: Registry, rows: Rows
) -> None:
    """As after migration 0019 (folds forgotten): the contact says "updating" until the nightly
    rescore rebuilds it, with its thread count."""
    user_id = await load(exchange(ALICE, "lunch", 5, replies=2) + exchange(ALICE, "deal", 3))
    await run_one(
        queue, registry, await rows.one("SELECT id FROM queue.job WHERE name = %s", QUEUE)
    )
    await rows.all("DELETE FROM crm.relationship_folds RETURNING 1")
    await rows.all("UPDATE crm.relationships SET threads = 0 RETURNING 1")
    assert await rows.one("SELECT bool_and(updating) FROM crm.contact_figures")
    rescore = await queue.send(QUEUE, {"user_id": user_id, "rescore": True})
    assert rescore is not None
    output = await run_one(queue, registry, rescore)
    assert (output["folded"], output["rescored"]) == (1, 1)
    figures = await rows.all(
        "SELECT updating, messages, threads, two_way_threads FROM crm.contact_figures"
    )
    assert figures == [(False, 5, 2, 2)]


async def test_enqueue__debounced_per_user(queue: JobQueue, registry: Registry) -> None:
    del registry
    first = await analyze_relationships.enqueue(queue, 7)
    assert first is not None
    assert await analyze_relationships.enqueue(queue, 7) is None
    assert await analyze_relationships.enqueue(queue, 8) is not None
    assert await analyze_relationships.enqueue(queue, 7, full=True) is not None


@pytest.mark.parametrize(
    "data", [{}, {"user_id": "1"}, {"user_id": True}, [1], {"user_id": 1, "full": 1, "rescore": 1}]
)
def test_args__bad_payloads_are_refused(data: Any) -> None:
    with pytest.raises(analyze_relationships.ArgsError):
        analyze_relationships.Args.from_data(data)


async def test_job__summaries_only_for_the_top_relationships_and_contacts_opened(
    load: Load, queue: JobQueue, deps: JobDeps, clock: FrozenClock, rows: Rows
) -> None:
    """Issue 19: nobody reads a summary of a relationship outside the top unless they open it."""
    top_one = dataclasses.replace(
        deps, settings=deps.settings.model_copy(update={"summary_top": 1})
    )
    registry = build_registry(top_one, clock)
    user_id = await load(
        exchange(ALICE, "lunch", 6, replies=3) + exchange(BOB, "deal", 2) + exchange(CAROL, "x", 1)
    )
    carol = await rows.one("SELECT contact_id FROM crm.contact_addresses WHERE address = %s", CAROL)
    async with rows.pool.connection() as conn:
        await summary_demand.record_view(conn, user_id, carol)
    job_id = await rows.one("SELECT id FROM queue.job WHERE name = %s", QUEUE)
    output = await run_one(queue, registry, job_id)
    assert output["changed"] == 3 and output["summaries"] == 2
    asked = await rows.all(
        "SELECT a.address FROM queue.job j JOIN crm.contact_addresses a"
        " ON a.contact_id = (j.data->>'contact_id')::bigint WHERE j.name = %s ORDER BY 1",
        summarize_relationship.QUEUE,
    )
    assert [a for (a,) in asked] == [ALICE, CAROL]  # the strongest, and the one opened
