"""A SIGKILLed worker process mid-workflow: another resumes its runs, and no step that had
completed runs again (its side effect happens once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.acceptance.workflow_worker import EFFECTS

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def query(db_url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        cur = conn.execute(sql, params or None)
        return cur.fetchall() if cur.description else []


def wait_until(predicate, timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_worker(db_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.acceptance.workflow_worker"], env=env, cwd=REPO
    )


def test_sigkill_mid_workflow_reruns_no_completed_step(db_url: str) -> None:
    query(db_url, EFFECTS)
    query(
        db_url,
        "INSERT INTO queue.queue (name, heartbeat_seconds, retry_limit) VALUES ('acc-flow', 2, 3)"
        " ON CONFLICT DO NOTHING",
    )
    runs, steps = 4, 8
    ids = [
        row[0]
        for row in query(
            db_url,
            """INSERT INTO queue.job (name, data, retry_limit, retry_delay, retry_backoff,
                   expire_seconds, heartbeat_seconds, retention_seconds)
               SELECT 'acc-flow', jsonb_build_object('args', jsonb_build_object('steps', %s,
                   'pause', 0.15), 'v', 1), 3, 0, false, 900, 2, 3600
               FROM generate_series(1, %s) RETURNING id""",
            steps,
            runs,
        )
    ]
    first = start_worker(db_url)
    procs = [first]
    try:
        wait_until(
            lambda: (
                query(
                    db_url,
                    "SELECT count(*) FROM queue.workflow_step WHERE state = 'completed'",
                )[0][0]
                >= runs * 3
            ),
            what="three steps of each run completed",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        completed_at_kill = set(
            query(db_url, "SELECT run_id, name FROM queue.workflow_step WHERE state = 'completed'")
        )
        second = start_worker(db_url)
        procs.append(second)
        wait_until(
            lambda: (
                query(
                    db_url,
                    "SELECT count(*) FROM queue.job WHERE name = 'acc-flow' AND state = 'completed'",
                )[0][0]
                == runs
            ),
            what="every run completed after the kill",
        )
        effects = query(db_url, "SELECT run_id, step, count(*) FROM acc_wf_effect GROUP BY 1, 2")
        by_step = {(run_id, step): n for run_id, step, n in effects}
        assert len(by_step) == runs * steps  # every step ran
        rerun = [key for key in completed_at_kill if by_step[key] != 1]
        assert rerun == [], f"completed steps ran again: {rerun}"
        # at most the steps in flight at the kill (one per run) ran twice
        assert sum(n - 1 for n in by_step.values()) <= runs
        outputs = query(db_url, "SELECT output FROM queue.job WHERE id = ANY(%s)", ids)
        assert {o["steps"] for (o,) in outputs} == {steps}
        assert second.pid in {o["pid"] for (o,) in outputs}  # the survivor finished them
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
