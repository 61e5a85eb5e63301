"""Real processes behind PgBouncer in transaction mode: a `fluffymail worker` (with and without a
direct URL for LISTEN) works its jobs, and a selection of the web app's tests passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.acceptance.app import EFFECTS
from tests.pgbouncer import ENV_FLAG, through

REPO = Path(__file__).resolve().parents[3]
JOBS = 200
WEB = "tests/integration/web/"
# A representative selection of the web app's tests runs again with its database behind
# PgBouncer: sign-in, tokens, the contacts API (list, merge), connections (sync and its schedule,
# upload and its import job, delete). FLUFFYMAIL_TEST_PGBOUNCER=1 runs any others the same way.
WEB_SELECTION = (
    f"{WEB}test_auth.py::test_login__sets_an_httponly_lax_session_cookie",
    f"{WEB}test_auth.py::test_api_token__authenticates_without_csrf",
    f"{WEB}test_contacts_api.py::test_list__search_filters_sorts_and_pages",
    f"{WEB}test_contacts_api.py::test_merge_and_undo",
    f"{WEB}test_connections_api.py::test_list_and_get__own_connections",
    f"{WEB}test_connections_api.py::test_sync__sends_a_job_and_schedules_every_15_minutes",
    f"{WEB}test_connections_api.py::test_upload_mbox__a_job_imports_it",
    f"{WEB}test_connections_api.py::test_delete__removes_its_mail_keeps_mail_another_connection_holds",
)


def count(url: str, query: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0


@pytest.mark.parametrize("direct", [True, False], ids=["listen-direct", "polling"])
def test_a_worker_process_runs_its_jobs_and_stops_cleanly(
    pgbouncer_url: str, db_url: str, direct: bool
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(EFFECTS)
        conn.execute(
            "INSERT INTO queue.job (name, data, retry_limit, retry_delay, retry_backoff,"
            " expire_seconds, heartbeat_seconds, retention_seconds)"
            " SELECT 'acc-noop', to_jsonb(i), 3, 0, false, 900, 30, 3600"
            " FROM generate_series(1, %s) i",
            (JOBS,),
        )
    env = {
        **os.environ,
        "DATABASE_URL": through(pgbouncer_url, db_url),
        "FLUFFYMAIL_DATABASE_POOLER": "transaction",
        "FLUFFYMAIL_POLL_INTERVAL": "0.2",
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    if direct:
        env["FLUFFYMAIL_DATABASE_DIRECT_URL"] = db_url
    command = [sys.executable, "-m", "fluffymail", "worker"]
    command += ["--jobs", "tests.acceptance.app:build_registry", "--queues", "acc-noop:5"]
    worker = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        deadline = time.monotonic() + 120  # a bound on hanging on a loaded machine
        done = "SELECT count(*) FROM queue.job WHERE state = 'completed'"
        while count(db_url, done) < JOBS and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited"
            time.sleep(0.2)
        assert count(db_url, "SELECT count(DISTINCT job_id) FROM acc_effect") == JOBS
        locked = count(db_url, "SELECT count(*) FROM queue.worker WHERE locked")
        assert locked == (1 if direct else 0), "the liveness lock is held only on a direct session"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_web_app_tests_pass_behind_pgbouncer(pgbouncer_url: str, tmp_path: Path) -> None:
    env = {**os.environ, ENV_FLAG: "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    command += ["--basetemp", str(tmp_path / "web"), *WEB_SELECTION]
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1]
