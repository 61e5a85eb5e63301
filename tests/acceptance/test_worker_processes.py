"""Real `fluffymail worker` processes: many share the work exactly once; SIGKILL loses nothing;
SIGTERM drains and returns unfinished jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class Workers:
    """Starts worker processes against one database and kills whatever is left at the end."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, queues: str, **env: str) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "PYTHONPATH": str(REPO),
            "FLUFFYMAIL_POLL_INTERVAL": "0.2",
            "FLUFFYMAIL_RESCUE_INTERVAL": "0.5",
            "FLUFFYMAIL_LOG_LEVEL": "WARNING",
            **env,
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fluffymail",
                "worker",
                "--jobs",
                "tests.acceptance.app:build_registry",
                "--queues",
                queues,
            ],
            env=environment,
            cwd=REPO,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(db_url: str) -> Iterator[Workers]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS acc_effect (job_id bigint, attempt int, pid int)")
        for name in ("acc-noop", "acc-slow", "acc-cron", "acc-stubborn", "acc-once"):
            conn.execute(
                "INSERT INTO queue.queue (name, heartbeat_seconds, retry_limit) VALUES (%s, 2, 3)"
                " ON CONFLICT DO NOTHING",
                (name,),
            )
    pool = Workers(db_url)
    yield pool
    pool.stop_all()


def query(db_url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql, params or None).fetchall()


def wait_until(predicate, timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def send(db_url: str, name: str, datas: list[str]) -> None:
    query(
        db_url,
        """INSERT INTO queue.job (name, data, retry_limit, retry_delay, retry_backoff,
                     expire_seconds, heartbeat_seconds, retention_seconds)
                     SELECT %s, d::jsonb, 3, 0, false, 900, 2, 3600 FROM unnest(%s::text[]) d RETURNING id""",
        name,
        datas,
    )


def count(db_url: str, sql: str, *params: object) -> int:
    return query(db_url, sql, *params)[0][0]


def test_four_processes_complete_20000_jobs_exactly_once(db_url: str, workers: Workers) -> None:
    send(db_url, "acc-noop", [f'{{"i": {i}}}' for i in range(20_000)])
    procs = [workers.start("acc-noop:10") for _ in range(4)]
    wait_until(
        lambda: count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'completed'") == 20_000,
        what="all 20,000 jobs completed",
    )
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        assert proc.wait(timeout=30) == 0
    total, distinct, pids = query(
        db_url, "SELECT count(*), count(DISTINCT job_id), count(DISTINCT pid) FROM acc_effect"
    )[0]
    assert (total, distinct) == (20_000, 20_000), "every job ran exactly once"
    assert pids == 4, "all four processes took a share"
    assert count(db_url, "SELECT count(*) FROM queue.job WHERE attempt <> 1") == 0


def test_sigkill__attempts_claimed_ahead_are_released_without_spending_a_retry(
    db_url: str, workers: Workers
) -> None:
    """Issue 16: with retry_limit=0 a SIGKILL fails only the attempts that started."""
    query(
        db_url,
        """INSERT INTO queue.job (name, data, retry_limit, retry_delay, retry_backoff,
                     expire_seconds, heartbeat_seconds, retention_seconds)
           SELECT 'acc-once', jsonb_build_object('sleep', CASE WHEN i <= 40 THEN 0 ELSE 3600 END),
                  0, 0, false, 900, 30, 3600
           FROM generate_series(1, 46) i RETURNING id""",
    )
    doomed = workers.start("acc-once:2")
    # 40 instant jobs make the worker claim ahead; then 2 slow ones run and the rest wait
    # the two slow ones marked running (an instant job can show as running until its ack lands)
    held = """SELECT count(*) FILTER (WHERE running AND data->>'sleep' = '3600'), count(*)
              FROM queue.job WHERE name = 'acc-once' AND state = 'active'"""
    wait_until(
        lambda: (state := query(db_url, held)[0])[0] == 2 and state[1] > 2,
        timeout=60,
        what="2 attempts running and more claimed ahead",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    survivor = workers.start("acc-slow:1")  # any live process rescues
    wait_until(
        lambda: (
            count(
                db_url,
                "SELECT count(*) FROM queue.job WHERE name = 'acc-once' AND state = 'active'",
            )
            == 0
        ),
        timeout=60,
        what="the dead worker's attempts given back",
    )
    # counted once it is dead: a poll may claim the last slow jobs after the marks showed
    ahead = count(db_url, "SELECT count(*) FROM queue.job_attempt WHERE name = 'acc-once'") - 2
    assert ahead > 0
    outcomes = query(
        db_url,
        """SELECT a.outcome, j.state::text, j.retry_count, count(*) FROM queue.job_attempt a
           JOIN queue.job j ON j.id = a.job_id GROUP BY 1, 2, 3 ORDER BY 1""",
    )
    assert outcomes == [("lost", "failed", 1, 2), ("not started", "retry", 0, ahead)]
    ran = count(db_url, "SELECT count(DISTINCT job_id) FROM acc_effect WHERE job_id IN"
                " (SELECT job_id FROM queue.job_attempt WHERE outcome = 'lost')")  # fmt: skip
    assert ran == 2, "the failed attempts are the two that started"
    survivor.kill()


def test_sigkilled_worker_loses_no_job(db_url: str, workers: Workers) -> None:
    send(db_url, "acc-slow", ['{"sleep": 60}'] * 5 + ['{"sleep": 0}'] * 5)
    doomed = workers.start("acc-slow:5")
    wait_until(
        lambda: (
            count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'active' AND running") == 5
        ),
        what="five jobs running in the doomed worker (and recorded as started)",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    workers.start("acc-slow:5")
    wait_until(
        lambda: count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'completed'") == 10,
        timeout=60,
        what="every job completed by the survivor",
    )
    assert count(db_url, "SELECT count(DISTINCT job_id) FROM acc_effect") == 10
    assert count(db_url, "SELECT count(*) FROM acc_effect") == 10, "no job's effect happened twice"
    rescued = query(db_url, "SELECT attempt, retry_count FROM queue.job WHERE attempt > 1")
    assert len(rescued) >= 5 and all(retries == 1 for _, retries in rescued), (
        "rescue counts as a failed attempt"
    )


def test_sigterm_drains_and_returns_unfinished_jobs(db_url: str, workers: Workers) -> None:
    send(db_url, "acc-slow", ['{"sleep": 60}'] * 3)
    worker = workers.start("acc-slow:5", FLUFFYMAIL_SHUTDOWN_GRACE="1")
    wait_until(
        lambda: count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'active'") == 3,
        what="three jobs running",
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0, "the worker exits after its grace period"
    assert query(db_url, "SELECT state::text, retry_count FROM queue.job") == [("retry", 0)] * 3
    workers.start("acc-slow:5")
    wait_until(
        lambda: count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'completed'") == 3,
        what="released jobs completed later",
    )


def test_worker_serves_healthz_and_metrics(db_url: str, workers: Workers) -> None:
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = workers.start("acc-noop:2", FLUFFYMAIL_METRICS_PORT=str(port))

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, timeout=30, what="/healthz answering")
    assert "fluffymail_queue_jobs" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_sigterm_exits_by_its_deadline_when_a_handler_ignores_cancellation(
    db_url: str, workers: Workers
) -> None:
    send(db_url, "acc-stubborn", ["{}"])
    worker = workers.start("acc-stubborn:1", FLUFFYMAIL_SHUTDOWN_GRACE="1")
    wait_until(
        lambda: count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'active'") == 1,
        what="the stubborn job running",
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 3, "exit code 3: stopped at the deadline, work abandoned"
    assert query(db_url, "SELECT state::text FROM queue.job") == [("retry",)], "job released"


def test_sigterm_exits_by_its_deadline_when_the_database_is_black_holed(
    db_url: str, workers: Workers
) -> None:
    from tests.blackhole import ProxyThread

    proxy = ProxyThread(db_url)
    try:
        send(db_url, "acc-slow", ['{"sleep": 60}'])
        worker = workers.start("acc-slow:1", DATABASE_URL=proxy.url, FLUFFYMAIL_SHUTDOWN_GRACE="1")
        wait_until(
            lambda: count(db_url, "SELECT count(*) FROM queue.job WHERE state = 'active'") == 1,
            what="the job running",
        )
        proxy.black_hole()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 3, "exits with the database unreachable, code 3"
    finally:
        proxy.heal()
        proxy.close()
