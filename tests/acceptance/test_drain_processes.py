"""Real `fluffymail worker --drain` processes: after a worker is SIGKILLed, a drain run rescues
its job, finishes it and exits 0; a run whose budget ends with work left exits 75."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from fluffymail.cli.worker import EXIT_ABANDONED, EXIT_WORK_LEFT
from tests.acceptance.test_worker_processes import (  # noqa: F401
    REPO,
    Workers,
    count,
    query,
    send,
    wait_until,
    workers,
)

pytestmark = pytest.mark.slow


def drain_run(db_url: str, queues: str, max_seconds: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PYTHONPATH": str(REPO),
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
        "FLUFFYMAIL_SHUTDOWN_GRACE": "1",
        "FLUFFYMAIL_SHUTDOWN_TIMEOUT": "2",
    }
    argv = [sys.executable, "-m", "fluffymail", "worker", "--drain"]
    argv += ["--max-seconds", str(max_seconds), "--queues", queues]
    argv += ["--jobs", "tests.acceptance.app:build_registry"]
    return subprocess.run(
        argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=max_seconds + 60
    )


def test_drain_run_after_a_sigkill_rescues_the_job_and_exits_0(
    db_url: str,
    workers: Workers,  # noqa: F811
) -> None:
    send(db_url, "acc-slow", ['{"sleep": 3600}'])  # attempt 1 hangs; attempt 2 finishes
    doomed = workers.start("acc-slow:1")
    wait_until(
        lambda: (
            count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'active' AND running") == 1
        ),
        what="the job running",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    # The next trigger comes a while later: by then the dead worker's row is stale.
    query(db_url, "UPDATE queue.worker SET heartbeat_on = now() - interval '1 minute' RETURNING id")

    result = drain_run(db_url, "acc-slow:1", 30)

    assert result.returncode == 0, result.stderr
    assert "queues empty" in result.stdout and "done acc-slow=1" in result.stdout
    assert "rescued=1" in result.stdout
    assert query(db_url, "SELECT state, attempt FROM queue.job WHERE name = 'acc-slow'") == [
        ("completed", 2)
    ]


def test_drain_run_whose_budget_ends_with_work_left_exits_75(
    db_url: str,
    workers: Workers,  # noqa: F811
) -> None:
    send(db_url, "acc-slow", ['{"sleep": 3600}'])

    result = drain_run(db_url, "acc-slow:1", 4)

    assert result.returncode == EXIT_WORK_LEFT, result.stderr
    assert "budget spent" in result.stdout and "left 1 due" in result.stdout
    assert query(db_url, "SELECT state, retry_count FROM queue.job WHERE name = 'acc-slow'") == [
        ("retry", 0)
    ]


def test_drain_run_with_a_handler_ignoring_cancellation_exits_3_without_hanging(
    db_url: str,
    workers: Workers,  # noqa: F811
) -> None:
    send(db_url, "acc-stubborn", ["{}"])

    result = drain_run(db_url, "acc-stubborn:1", 4)  # its timeout is the hang bound

    assert result.returncode == EXIT_ABANDONED, result.stderr
    assert "budget spent" in result.stdout
