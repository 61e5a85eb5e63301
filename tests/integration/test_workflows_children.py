"""Child workflows (fan-out / fan-in without polling), cancellation and the versioning rule."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, StepFailedError, Workflows
from tests.helpers import wait_for
from tests.integration.test_workflows import finished, in_state


@pytest.fixture
def wf(queue: JobQueue) -> Workflows:
    return Workflows(queue)


def define_double(wf: Workflows) -> None:
    @wf.define("double", retry_limit=0)
    async def double(step: Step, args: dict[str, Any]) -> Any:
        if args.get("fail"):
            raise ValueError(f"child {args['x']} fails")
        return await step.run("double", lambda x: x * 2, args["x"])


async def test_children__fan_in_of_1000_wakes_the_parent_once(wf: Workflows, sql) -> None:
    define_double(wf)

    @wf.define("parent")
    async def parent(step: Step, args: dict[str, Any]) -> Any:
        outs = await step.invoke_many("kids", "double", [{"x": i} for i in range(args["n"])])
        one = await step.invoke("one", "double", {"x": 100})
        return {"sum": sum(outs), "first": outs[:3], "one": one}

    run_id = await wf.start("parent", {"n": 1000})
    await wf.work("parent")
    await wf.work("double", concurrency=20, batch_size=50)
    run = await finished(wf, run_id, within=120)
    assert run.output == {"sum": 999 * 1000, "first": [0, 2, 4], "one": 200}
    # claimed three times: the start, after the last of the 1000, after the single child
    assert await sql.one("SELECT attempt FROM queue.job WHERE id = %s", run_id) == 3
    kids = next(s for s in run.steps if s.name == "kids")
    assert kids.state == "completed" and len(kids.output) == 1000


async def test_children__a_failed_child_raises_into_the_parent(wf: Workflows) -> None:
    define_double(wf)

    @wf.define("parent")
    async def parent(step: Step, args: Any) -> Any:
        try:
            await step.invoke_many("kids", "double", [{"x": 1}, {"x": 2, "fail": True}])
        except StepFailedError as exc:
            return {"failed": [child["state"] for child in exc.error["children"]]}
        return None

    run_id = await wf.start("parent")
    await wf.work("parent")
    await wf.work("double", concurrency=2)
    assert (await finished(wf, run_id)).output == {"failed": ["failed"]}


async def test_cancel__a_cancelled_child_counts_as_failed_for_its_parent(
    wf: Workflows, sql
) -> None:
    @wf.define("napper")
    async def napper(step: Step, args: Any) -> Any:
        await step.sleep("long", "1 hour")

    @wf.define("parent")
    async def parent(step: Step, args: Any) -> Any:
        try:
            await step.invoke("kid", "napper")
        except StepFailedError as exc:
            return exc.error["children"][0]["state"]
        return "finished"

    run_id = await wf.start("parent")
    await wf.work("parent")
    await wf.work("napper")
    await in_state(wf, run_id, "waiting")

    async def child() -> int | None:
        return await sql.one("SELECT id FROM queue.job WHERE name = 'napper' AND state = 'retry'")

    await wait_for(lambda: _is_set(child()))
    assert await wf.cancel(await child()) != []
    assert (await finished(wf, run_id)).output == "cancelled"


async def _is_set(value: Any) -> bool:
    return await value is not None


async def test_cancel__by_id_cancels_children_and_tells_the_running_step(make_queue, sql) -> None:
    wf = Workflows(make_queue())
    told = asyncio.Event()
    entered = asyncio.Event()

    @wf.define("slow-child", heartbeat_seconds=1)
    async def slow_child(step: Step, args: Any) -> Any:
        async def forever() -> None:
            entered.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                told.set()
                raise

        await step.run("forever", forever)

    @wf.define("parent")
    async def parent(step: Step, args: Any) -> Any:
        await step.invoke_many("kids", "slow-child", [1, 2])

    run_id = await wf.start("parent")
    await wf.work("parent")
    await wf.work("slow-child", concurrency=1)  # one child runs, the other waits in the queue
    await in_state(wf, run_id, "waiting")
    await asyncio.wait_for(entered.wait(), 10)
    elsewhere = Workflows(make_queue())  # as from another process: the heartbeat tells
    cancelled = await elsewhere.cancel(run_id)
    assert len(cancelled) == 3
    assert (await finished(wf, run_id)).state == "cancelled"
    await asyncio.wait_for(told.wait(), 10)  # the worker's heartbeat found the lease gone
    states = await sql.all(
        "SELECT state::text FROM queue.job WHERE data->'parent'->>0 = %s", str(run_id)
    )
    assert [s for (s,) in states] == ["cancelled", "cancelled"]


async def test_versioning__a_run_of_another_version_is_refused(make_queue, sql) -> None:
    queue = make_queue()
    old, new = Workflows(queue), Workflows(queue)

    @old.define("versioned", version=1)
    async def v1(step: Step, args: Any) -> Any:
        await step.run("a", lambda: "a1")
        await step.sleep("nap", 0.3)
        return await step.run("b", lambda: "b1")

    @new.define("versioned", version=2)
    async def v2(step: Step, args: Any) -> Any:
        await step.run("a", lambda: "a2")
        return await step.run("b", lambda: "b2")

    run_id = await old.start("versioned")
    worker = await old.work("versioned")
    await in_state(old, run_id, "sleeping")
    await worker.stop(grace=1)
    await new.work("versioned")  # deployed: version 2 picks the run up after its nap
    run = await finished(new, run_id)
    assert run.state == "failed" and run.error["type"] == "WorkflowVersionError"
    assert "version 1" in run.error["message"] and "version 2" in run.error["message"]
    assert [(s.name, s.output) for s in run.steps if s.name == "a"] == [("a", "a1")]
    fresh = await new.start("versioned")
    assert (await finished(new, fresh)).output == "b2"


async def test_versioning__steps_asked_in_another_order_are_refused(make_queue) -> None:
    queue = make_queue()
    old, changed = Workflows(queue), Workflows(queue)

    @old.define("drifting", retry_limit=3)
    async def before(step: Step, args: Any) -> Any:
        await step.run("a", lambda: 1)
        await step.sleep("nap", 0.3)
        return await step.run("b", lambda: 2)

    @changed.define("drifting", retry_limit=3)  # same version, steps reordered: a bug
    async def after(step: Step, args: Any) -> Any:
        await step.run("b", lambda: 2)
        await step.run("a", lambda: 1)
        return "never"

    run_id = await old.start("drifting")
    worker = await old.work("drifting")
    await in_state(old, run_id, "sleeping")
    await worker.stop(grace=1)
    await changed.work("drifting")
    run = await finished(changed, run_id)
    assert run.state == "failed" and run.error["type"] == "WorkflowVersionError"
    assert "non-determinism" in run.error["message"]


async def test_get__steps_show_what_a_run_waits_for(wf: Workflows) -> None:
    @wf.define("shown")
    async def shown(step: Step, args: Any) -> Any:
        await step.run("first", lambda: {"n": 1})
        return await step.wait_for_event("ev", event="e", match={"k": 1}, timeout="1 hour")

    run_id = await wf.start("shown")
    await wf.work("shown")
    run = await in_state(wf, run_id, "waiting")
    first, ev = run.steps
    assert (first.state, first.output, first.attempts) == ("completed", {"n": 1}, 1)
    assert first.started_at is not None and first.finished_at is not None
    assert ev.state == "waiting" and ev.waiting_for is not None
    assert ev.waiting_for["event"] == "e" and ev.waiting_for["match"] == {"k": 1}

    async def woken() -> bool:
        return await wf.send_event("e", {"k": 1, "v": 2}) == 1

    await wait_for(woken)
    assert (await finished(wf, run_id)).output == {"k": 1, "v": 2}


def test_jobs_show__lists_a_runs_steps(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from psycopg_pool import AsyncConnectionPool
    from typer.testing import CliRunner

    from fluffymail.cli import app

    async def seed() -> int:
        pool = AsyncConnectionPool(db_url, kwargs={"autocommit": True}, open=False)
        await pool.open()
        queue = JobQueue(pool, listen=False)
        wf = Workflows(queue)

        @wf.define("visible")
        async def visible(step: Step, args: Any) -> Any:
            await step.run("fetch", lambda: {"messages": 3}, retry_limit=2)
            await step.wait_for_event("synced", event="mail.synced", match={"id": 7})

        run_id = await wf.start("visible", cancel_on=[{"event": "stop", "match": {"id": 7}}])
        assert run_id is not None
        await wf.work("visible")
        await in_state(wf, run_id, "waiting")
        await queue.stop(grace=1)
        await pool.close()
        return run_id

    run_id = asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FLUFFYMAIL_LOG_LEVEL", "ERROR")
    result = CliRunner().invoke(app, ["jobs", "show", str(run_id), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    fetch, synced = shown["steps"]
    assert (fetch["name"], fetch["state"], fetch["attempts"]) == ("fetch", "completed", 1)
    assert fetch["output"] == {"messages": 3} and fetch["started_at"] and fetch["finished_at"]
    assert synced["state"] == "waiting"
    assert synced["waiting_for"]["event"] == "mail.synced"
    assert synced["waiting_for"]["match"] == {"id": 7}
    assert shown["cancel_on"][0]["event"] == "stop"


async def test_cancel__a_step_running_in_this_process_is_told_at_once(wf: Workflows) -> None:
    told, entered = asyncio.Event(), asyncio.Event()

    async def forever() -> None:
        entered.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            told.set()
            raise

    @wf.define("long-step")  # heartbeat_seconds stays 30: no heartbeat comes within the wait
    async def long_step(step: Step, args: Any) -> Any:
        await step.run("forever", forever)

    run_id = await wf.start("long-step")
    await wf.work("long-step")
    await asyncio.wait_for(entered.wait(), 10)
    assert await wf.cancel(run_id) == [run_id]
    await asyncio.wait_for(told.wait(), 3)
    assert (await finished(wf, run_id)).state == "cancelled"
