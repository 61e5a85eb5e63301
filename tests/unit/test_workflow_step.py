"""`Step` without a database: replays, suspensions and the non-determinism check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fluffymail.queue.job import Job
from fluffymail.queue.workflows import StepFailedError, WorkflowVersionError
from fluffymail.queue.workflows.step import Policy, RunState, Step, Suspend
from fluffymail.queue.workflows.store import StepRow

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class FakeStore:
    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []

    async def save_step(self, lease: Any, **row: Any) -> bool:
        self.saved.append(row)
        return True


def make_step(recorded: dict[str, StepRow] | None = None) -> tuple[Step, FakeStore]:
    store = FakeStore()
    state = RunState(
        job=Job(id=1, name="wf", data={}, attempt=2),
        store=store,  # type: ignore[arg-type]
        recorded=recorded or {},
        now=NOW,
        step_policy=Policy(retry_limit=0, retry_delay=0),
        versions={"child": 3},
    )
    return Step(state), store


def row(name: str, seq: int, kind: str = "run", state: str = "completed", **extra: Any) -> StepRow:
    fields = {"attempts": 1, "wake_at": None, "output": None, "error": None, "children": None}
    return StepRow(name=name, seq=seq, kind=kind, state=state, **{**fields, **extra})


async def test_step__a_recorded_step_returns_its_result_without_running() -> None:
    step, store = make_step({"a": row("a", 0, output={"n": 1})})
    assert await step.run("a", lambda: pytest.fail("ran again")) == {"n": 1}
    assert await step.run("b", lambda: [1, (2, 3)]) == [1, [2, 3]]  # as a replay would see it
    assert [(s["name"], s["seq"], s["state"]) for s in store.saved] == [("b", 1, "completed")]


async def test_step__a_recorded_failure_is_raised_again() -> None:
    step, _ = make_step({"a": row("a", 0, state="failed", error={"type": "E", "message": "no"})})
    with pytest.raises(StepFailedError, match="E: no"):
        await step.run("a", lambda: None)


async def test_step__steps_asked_in_another_order_are_refused() -> None:
    step, _ = make_step({"a": row("a", 0), "b": row("b", 1)})
    with pytest.raises(WorkflowVersionError, match="non-determinism"):
        await step.run("b", lambda: None)


async def test_step__a_step_asked_as_another_kind_is_refused() -> None:
    step, _ = make_step({"a": row("a", 0)})
    with pytest.raises(WorkflowVersionError):
        await step.sleep("a", 10)


async def test_step__names_are_unique_within_a_run() -> None:
    step, _ = make_step()
    await step.run("a", lambda: None)
    with pytest.raises(ValueError, match="used twice"):
        await step.run("a", lambda: None)


async def test_step__sleep_suspends_until_due_then_returns() -> None:
    step, _ = make_step()
    with pytest.raises(Suspend) as suspended:
        await step.sleep("nap", "2 hours")
    assert suspended.value.wait["wake_at"] == NOW + timedelta(hours=2)
    done, _ = make_step({"nap": row("nap", 0, "sleep", "sleeping", wake_at=NOW)})
    await done.sleep("nap", "2 hours")  # due at the database's now: returns


async def test_step__invoke_many_suspends_with_one_child_record_each() -> None:
    step, _ = make_step()
    with pytest.raises(Suspend) as suspended:
        await step.invoke_many("kids", "child", [{"x": 1}, {"x": 2}])
    records = suspended.value.wait["records"]
    assert records == [
        {"data": {"args": {"x": 1}, "v": 3, "parent": [1, "kids"]}},
        {"data": {"args": {"x": 2}, "v": 3, "parent": [1, "kids"]}},
    ]
    assert await make_step()[0].invoke_many("none", "child", []) == []
