"""Durable workflows: memoized steps, per-step retries, sleeps that hold no slot, versioning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Run, Step, StepFailedError, Workflows
from tests.helpers import wait_for


async def finished(wf: Workflows, run_id: int, within: float = 15.0) -> Run:
    """Wait until the run is completed, failed or cancelled; the run."""
    run: Run | None = None

    async def done() -> bool:
        nonlocal run
        run = await wf.get(run_id)
        return run is not None and run.state in ("completed", "failed", "cancelled")

    await wait_for(done, within)
    assert run is not None
    return run


async def in_state(wf: Workflows, run_id: int, state: str, within: float = 10.0) -> Run:
    run: Run | None = None

    async def reached() -> bool:
        nonlocal run
        run = await wf.get(run_id)
        return run is not None and run.state == state

    await wait_for(reached, within)
    assert run is not None
    return run


@pytest.fixture
def wf(queue: JobQueue) -> Workflows:
    return Workflows(queue)


def counter() -> tuple[dict[str, int], Callable[[str], Callable[..., Any]]]:
    calls: dict[str, int] = {}

    def make(name: str) -> Callable[..., Any]:
        def fn(*args: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return {"step": name, "args": list(args)}

        return fn

    return calls, make


async def test_workflows__steps_run_once_and_results_are_stored(wf: Workflows, sql) -> None:
    calls, make = counter()

    @wf.define("three")
    async def three(step: Step, args: dict[str, Any]) -> Any:
        a = await step.run("a", make("a"), args["x"])
        b = await step.run("b", make("b"), a["step"])

        async def c(value: int) -> int:
            calls["c"] = calls.get("c", 0) + 1
            return value + 1

        return {"a": a, "b": b, "c": await step.run("c", c, 41)}

    run_id = await wf.start("three", {"x": 7})
    assert run_id is not None
    await wf.work("three", concurrency=2)
    run = await finished(wf, run_id)
    assert run.state == "completed" and run.version == 1 and run.args == {"x": 7}
    assert run.output == {
        "a": {"step": "a", "args": [7]},
        "b": {"step": "b", "args": ["a"]},
        "c": 42,
    }
    assert calls == {"a": 1, "b": 1, "c": 1}
    assert [(s.name, s.state, s.attempts) for s in run.steps] == [
        ("a", "completed", 1),
        ("b", "completed", 1),
        ("c", "completed", 1),
    ]
    assert run.steps[2].output == 42 and run.steps[0].finished_at is not None


async def test_workflows__start_many_starts_runs_in_one_round_trip(wf: Workflows) -> None:
    @wf.define("square")
    async def square(step: Step, args: int) -> Any:
        return await step.run("square", lambda x: x * x, args)

    ids = await wf.start_many("square", [1, 2, 3])
    await wf.work("square", concurrency=3)
    assert [(await finished(wf, run_id)).output for run_id in ids] == [1, 4, 9]


async def test_workflows__a_retried_run_does_not_rerun_completed_steps(wf: Workflows) -> None:
    calls, make = counter()
    crashes = {"left": 1}

    @wf.define("flaky-run", retry_limit=2, retry_delay=0)
    async def flaky(step: Step, args: Any) -> Any:
        first = await step.run("first", make("first"))
        if crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("the run dies between steps")
        return [first, await step.run("second", make("second"))]

    run_id = await wf.start("flaky-run")
    await wf.work("flaky-run")
    run = await finished(wf, run_id)
    assert run.state == "completed"
    assert calls == {"first": 1, "second": 1}


async def test_workflows__a_step_retries_on_its_own_then_fails_into_the_workflow(
    wf: Workflows,
) -> None:
    tries = {"flaky": 0, "broken": 0}

    def flaky() -> str:
        tries["flaky"] += 1
        if tries["flaky"] < 3:
            raise ConnectionError("try again")
        return "ok"

    def broken() -> None:
        tries["broken"] += 1
        raise ValueError("always")

    @wf.define("retries", retry_limit=0)
    async def retries(step: Step, args: Any) -> Any:
        ok = await step.run("flaky", flaky, retry_limit=3, retry_delay=0.01)
        try:
            await step.run("broken", broken, retry_limit=1, retry_delay=0.01)
        except StepFailedError as exc:
            return {"ok": ok, "caught": exc.step, "message": exc.error["message"]}
        return None

    run_id = await wf.start("retries")
    await wf.work("retries")
    run = await finished(wf, run_id)
    assert run.output == {"ok": "ok", "caught": "broken", "message": "always"}
    assert tries == {"flaky": 3, "broken": 2}
    states = {s.name: (s.state, s.attempts) for s in run.steps}
    assert states == {"flaky": ("completed", 3), "broken": ("failed", 2)}


async def test_workflows__an_uncaught_step_failure_fails_the_run_and_its_retry_reruns_it(
    wf: Workflows,
) -> None:
    tries = {"n": 0}

    def fails_once_per_run_attempt() -> str:
        tries["n"] += 1
        if tries["n"] == 1:
            raise ValueError("first run attempt fails")
        return "second time lucky"

    @wf.define("uncaught", retry_limit=1, retry_delay=0, step_retry_limit=0)
    async def uncaught(step: Step, args: Any) -> Any:
        return await step.run("once", fails_once_per_run_attempt)

    run_id = await wf.start("uncaught")
    await wf.work("uncaught")
    run = await finished(wf, run_id)
    assert run.state == "completed" and run.output == "second time lucky"
    assert run.steps[0].attempts == 2

    @wf.define("doomed", retry_limit=0, step_retry_limit=1, step_retry_delay=0)
    async def doomed(step: Step, args: Any) -> Any:
        return await step.run("never", lambda: 1 / 0)

    run_id = await wf.start("doomed")
    await wf.work("doomed")
    run = await finished(wf, run_id)
    assert run.state == "failed" and run.error["type"] == "StepFailedError", run.error
    assert "ZeroDivisionError" in run.error["message"]


async def test_workflows__sleep_holds_no_slot(wf: Workflows, sql) -> None:
    order: list[str] = []

    @wf.define("nap")
    async def nap(step: Step, args: dict[str, Any]) -> Any:
        await step.run("before", order.append, f"{args['who']} before")
        if args["sleep"]:
            await step.sleep("pause", 1.0)
        await step.run("after", order.append, f"{args['who']} after")
        return args["who"]

    sleeper = await wf.start("nap", {"who": "sleeper", "sleep": True})
    await wf.work("nap", concurrency=1)  # one slot: the sleeper must give it back
    run = await in_state(wf, sleeper, "sleeping")
    assert run.steps[1].name == "pause" and run.steps[1].waiting_for is not None
    assert await sql.one("SELECT state::text FROM queue.job WHERE id = %s", sleeper) == "retry"
    awake = await wf.start("nap", {"who": "awake", "sleep": False})
    assert (await finished(wf, awake)).state == "completed"
    assert (await finished(wf, sleeper)).output == "sleeper"
    assert order == ["sleeper before", "awake before", "awake after", "sleeper after"]


async def test_workflows__sleep_until_a_past_time_returns_at_once(wf: Workflows) -> None:
    @wf.define("past")
    async def past(step: Step, args: Any) -> Any:
        await step.sleep_until("then", datetime.now(UTC) - timedelta(minutes=1))
        return "done"

    run_id = await wf.start("past")
    await wf.work("past")
    assert (await finished(wf, run_id)).output == "done"


async def test_workflows__parallel_steps_run_concurrently_and_are_memoized(
    wf: Workflows,
) -> None:
    started = {"a": asyncio.Event(), "b": asyncio.Event()}
    calls = {"a": 0, "b": 0}

    def worker(me: str, other: str) -> Callable[[], Any]:
        async def fn() -> str:
            calls[me] += 1
            started[me].set()
            await asyncio.wait_for(started[other].wait(), 5)  # both run at once
            return me.upper()

        return fn

    @wf.define("fan")
    async def fan(step: Step, args: Any) -> Any:
        outs = await step.parallel("both", [("a", worker("a", "b")), ("b", worker("b", "a"))])
        await step.sleep("nap", 0.2)  # the replay after it must not run a or b again
        return outs

    run_id = await wf.start("fan")
    await wf.work("fan")
    run = await finished(wf, run_id)
    assert run.output == ["A", "B"] and calls == {"a": 1, "b": 1}
    assert [s.name for s in run.steps] == ["both.a", "both.b", "nap"]
