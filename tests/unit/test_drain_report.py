"""A drain run's budget split and its report (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from fluffymail.queue.drain import DrainOptions, DrainReport, QueueLeft

SOON = datetime(2026, 12, 6, 10, 15, tzinfo=UTC)


def report(**overrides: object) -> DrainReport:
    values: dict[str, object] = {
        "done": {"sync": 2, "extract": 0},
        "failed": {},
        "left": {
            "sync": QueueLeft(due=0, active=1, next_due=SOON, paused=False),
            "held": QueueLeft(due=4, active=0, next_due=None, paused=True),
        },
        "out_of_time": False,
        "interrupted": False,
        "clean": True,
        "leader": True,
        "fired": 1,
        "rescued": 0,
        "seconds": 0.42,
        **overrides,
    }
    return DrainReport(**values)  # type: ignore[arg-type]


def test_options__grace_and_timeout_take_at_most_a_quarter_of_the_budget_each() -> None:
    roomy = DrainOptions(seconds=50, grace=10, timeout=5)
    assert (roomy.stop_grace, roomy.stop_timeout) == (10, 5)
    short = DrainOptions(seconds=8, grace=20, timeout=5)
    assert (short.stop_grace, short.stop_timeout) == (2, 2)


def test_report__work_left_only_when_the_run_was_cut_short_with_jobs_due() -> None:
    assert not report().work_left, "emptied: due jobs in a paused queue are not work left"
    assert not report(out_of_time=True).work_left, "a paused queue's jobs do not count"
    left = {"sync": QueueLeft(due=3, active=0, next_due=None, paused=False)}
    assert report(out_of_time=True, left=left).work_left
    assert report(interrupted=True, left=left).work_left
    assert not report(left=left).work_left, "claimable-looking jobs the run could not take"


def test_report__summary_line_and_json() -> None:
    line = report().summary()
    assert line == (
        "drain: queues empty after 0.4s; done sync=2; left 0 due; next due "
        "2026-12-06T10:15:00+00:00; leader=yes ticks=1 rescued=0"
    )
    assert "budget spent" in report(out_of_time=True).summary()
    assert "failed 3" in report(failed={"sync": 3}).summary()
    data = report().as_dict()
    assert data["next_due"] == SOON.isoformat() and data["due_left"] == 0
    assert data["ticks_fired"] == 1 and data["work_left"] is False
