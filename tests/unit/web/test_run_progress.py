"""A workflow run's progress on its job page: steps done of those reached, fan-out children
done of those started (waiting or gathered), and the step it is suspended on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fluffymail.queue import Job
from fluffymail.queue.workflows import Run, StepInfo
from fluffymail.web.services.jobs import STEPS_SHOWN, JobPage, RunProgress

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _step(name: str, kind: str, state: str, **extra: Any) -> StepInfo:
    return StepInfo(
        name=name, kind=kind, state=state, attempts=1, started_at=NOW, finished_at=None, **extra
    )


def _run(*steps: StepInfo) -> Run:
    return Run(id=1, name="import", version=1, state="waiting", args=None, steps=list(steps))


def test_progress__counts_gathered_and_waiting_children() -> None:
    fan_in = {"children": 5, "pending": 2}
    progress = RunProgress.of(
        _run(
            _step("list", "run", "completed", output=[1, 2, 3]),
            _step("first", "invoke", "completed", output=[{"n": 1}, {"n": 2}, {"n": 3}]),
            _step("second", "invoke", "waiting", waiting_for=fan_in, children=5, pending=2),
        )
    )
    assert (progress.steps_done, progress.steps_known) == (2, 3)
    assert (progress.children_done, progress.children_total) == (6, 8)
    assert progress.waiting_on is not None and progress.waiting_on.name == "second"


def test_progress__counts_the_jobs_of_groups_open_waiting_or_joined() -> None:
    joined = {"children": 4, "completed": 3, "failed": 1}
    progress = RunProgress.of(
        _run(
            _step("first", "group", "completed", output=joined),
            _step("second", "group", "open", children=3, pending=1),
            _step("third", "group", "waiting", children=2, pending=2,
                  waiting_for={"children": 2, "pending": 2}),
        )
    )  # fmt: skip
    assert (progress.children_done, progress.children_total) == (6, 9)
    assert progress.waiting_on is not None and progress.waiting_on.name == "third"


def test_progress__a_run_without_fan_out_waits_for_its_event() -> None:
    wait = {"event": "mail.synced", "match": {"connection_id": 7}, "timeout_at": None}
    progress = RunProgress.of(
        _run(
            _step("fetch", "run", "completed"), _step("synced", "wait", "waiting", waiting_for=wait)
        )
    )
    assert (progress.steps_done, progress.steps_known, progress.children_total) == (1, 2, 0)
    assert progress.waiting_on is not None and progress.waiting_on.waiting_for == wait


def test_progress__a_finished_run_waits_on_nothing() -> None:
    progress = RunProgress.of(_run(_step("fetch", "run", "completed")))
    assert progress.waiting_on is None and progress.steps_done == progress.steps_known == 1


def test_job_page__lists_a_long_runs_latest_steps() -> None:
    run = _run(*[_step(f"page-{n}", "run", "completed") for n in range(150)])
    page = JobPage(job=Job(id=1, name="import", data=None), attempts=[], run=run)
    assert len(page.shown_steps) == STEPS_SHOWN and page.hidden_steps == 150 - STEPS_SHOWN
    assert page.shown_steps[-1].name == "page-149"
