"""Workflow events: matching waiters woken once each, transactional sends, timeouts, cancel_on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, Workflows
from tests.integration.test_workflows import finished, in_state


@pytest.fixture
def wf(queue: JobQueue) -> Workflows:
    return Workflows(queue)


def define_waiter(wf: Workflows, name: str = "waiter", timeout: Any = None) -> dict[int, int]:
    resumed: dict[int, int] = {}

    @wf.define(name)
    async def waiter(step: Step, args: dict[str, Any]) -> Any:
        data = await step.wait_for_event(
            "synced", event="mail.synced", match={"connection_id": args["id"]}, timeout=timeout
        )
        resumed[args["id"]] = resumed.get(args["id"], 0) + 1
        return await step.run("after", lambda: {"got": data})

    return resumed


async def test_events__wake_exactly_the_matching_waiters(wf: Workflows, sql) -> None:
    define_waiter(wf)
    runs = {i: await wf.start("waiter", {"id": i}) for i in range(1, 4)}
    await wf.work("waiter", concurrency=3)
    for run_id in runs.values():
        run = await in_state(wf, run_id, "waiting")
    assert run.steps[0].waiting_for == {
        "event": "mail.synced",
        "match": {"connection_id": 3},
        "timeout_at": None,
    }
    assert await wf.send_event("mail.synced", {"connection_id": 2, "messages": 10}) == 1
    assert await wf.send_event("mail.other", {"connection_id": 1}) == 0
    run = await finished(wf, runs[2])
    assert run.output == {"got": {"connection_id": 2, "messages": 10}}
    await asyncio.sleep(0.3)
    for i in (1, 3):
        assert (await wf.get(runs[i])).state == "waiting"  # type: ignore[union-attr]
    # an event already taken wakes nobody again
    assert await wf.send_event("mail.synced", {"connection_id": 2}) == 0


async def test_events__a_rolled_back_send_wakes_nobody(
    wf: Workflows, pool: AsyncConnectionPool
) -> None:
    define_waiter(wf)
    run_id = await wf.start("waiter", {"id": 7})
    await wf.work("waiter")
    await in_state(wf, run_id, "waiting")
    async with pool.connection() as conn:
        async with conn.transaction(force_rollback=True):
            assert await wf.send_event("mail.synced", {"connection_id": 7}, conn=conn) == 1
        await asyncio.sleep(0.3)
        assert (await wf.get(run_id)).state == "waiting"  # type: ignore[union-attr]
        async with conn.transaction():
            await wf.send_event("mail.synced", {"connection_id": 7, "n": 1}, conn=conn)
    assert (await finished(wf, run_id)).output == {"got": {"connection_id": 7, "n": 1}}


async def test_events__concurrent_senders_and_workers_wake_each_waiter_once(
    make_queue, sql
) -> None:
    queues = [make_queue(), make_queue()]
    flows = [Workflows(q) for q in queues]
    resumed = [define_waiter(flow) for flow in flows]
    run_ids = [await flows[0].start("waiter", {"id": i % 5}) for i in range(50)]
    for flow in flows:
        await flow.work("waiter", concurrency=10)

    async def all_waiting() -> bool:
        count = await sql.one(
            "SELECT count(*) FROM queue.workflow_step WHERE state = 'waiting' AND kind = 'wait'"
        )
        return count == 50

    from tests.helpers import wait_for

    await wait_for(all_waiting, 20)
    sends = [
        flows[i % 2].send_event("mail.synced", {"connection_id": i % 5, "sender": i})
        for i in range(40)
    ]
    woken = await asyncio.gather(*sends)
    assert sum(woken) == 50  # each waiter taken by exactly one send
    for run_id in run_ids:
        assert (await finished(flows[0], run_id, 30)).state == "completed"
    merged: dict[int, int] = {}
    for counts in resumed:
        for key, n in counts.items():
            merged[key] = merged.get(key, 0) + n
    assert merged == {i: 10 for i in range(5)}  # each run resumed past its wait once


async def test_events__timeout_returns_none(wf: Workflows) -> None:
    define_waiter(wf, timeout=0.3)
    run_id = await wf.start("waiter", {"id": 1})
    await wf.work("waiter")
    run = await finished(wf, run_id)
    assert run.output == {"got": None}
    assert run.steps[0].state == "completed" and run.steps[0].output is None


async def test_events__cancel_on_event_cancels_the_run(wf: Workflows) -> None:
    define_waiter(wf)
    keep = await wf.start(
        "waiter", {"id": 1}, cancel_on=[{"event": "import.cancel", "match": {"id": 2}}]
    )
    doomed = await wf.start(
        "waiter", {"id": 2}, cancel_on=[{"event": "import.cancel", "match": {"id": 1}}]
    )
    await wf.work("waiter")
    await in_state(wf, keep, "waiting")
    await in_state(wf, doomed, "waiting")
    assert await wf.send_event("import.cancel", {"id": 1, "by": "user"}) == 1
    run = await finished(wf, doomed)
    assert run.state == "cancelled" and run.steps[0].state == "cancelled"
    assert (await wf.get(keep)).state == "waiting"  # type: ignore[union-attr]
    # the cancelled run's wait is closed: the event it waited for wakes nobody now
    assert await wf.send_event("mail.synced", {"connection_id": 2}) == 0


async def test_events__a_cancelled_run_resumed_by_hand_waits_again(
    wf: Workflows, queue: JobQueue
) -> None:
    define_waiter(wf)
    run_id = await wf.start("waiter", {"id": 5})
    await wf.work("waiter")
    await in_state(wf, run_id, "waiting")
    assert await wf.cancel(run_id) == [run_id]
    assert await wf.send_event("mail.synced", {"connection_id": 5}) == 0
    assert await queue.resume(run_id) == [run_id]  # `fluffymail jobs resume`
    await in_state(wf, run_id, "waiting")
    assert await wf.send_event("mail.synced", {"connection_id": 5, "again": True}) == 1
    run = await finished(wf, run_id)
    assert run.output == {"got": {"connection_id": 5, "again": True}}
