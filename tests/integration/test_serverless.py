"""The serverless entry points: `fluffymail.serverless.drain`, the Lambda handler and the
`serverless http` app (refused without its shared secret)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest

from fluffymail import serverless
from fluffymail.config import Settings
from fluffymail.errors import ConfigError
from fluffymail.serverless.http import WORK_LEFT, create_app
from tests.acceptance import test_worker_processes as acceptance

JOBS = "tests.acceptance.app:build_registry"
SECRET = "a-shared-drain-secret"


def config(db_url: str, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        migrate_on_start=False,
        shutdown_grace=0.5,
        shutdown_timeout=1,
        drain_seconds=20,
        **overrides,
    )


@pytest.fixture
def jobs_db(db_url: str) -> str:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE acc_effect (job_id bigint, attempt int, pid int)")
    return db_url


def send(db_url: str, name: str, data: str, n: int = 1) -> None:
    acceptance.send(db_url, name, [data] * n)


def client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, jobs=JOBS)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://drain")


def test_drain__the_programmatic_entry_point_works_what_is_due(jobs_db: str) -> None:
    report = serverless.drain(10, settings=config(jobs_db), queues="acc-noop:2", jobs=JOBS)
    assert report.done == {} and not report.work_left, "an empty queue: nothing to do"
    send(jobs_db, "acc-noop", "{}", 5)
    report = serverless.drain(10, settings=config(jobs_db), queues="acc-noop:2", jobs=JOBS)
    assert report.done == {"acc-noop": 5} and report.as_dict()["due_left"] == 0


def test_lambda_handler__a_drain_run_within_the_invocations_time(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The product's own registry, on empty queues: the run ends at once, nothing left."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FLUFFYMAIL_MIGRATE_ON_START", "false")
    monkeypatch.setenv("FLUFFYMAIL_DATA_DIR", str(tmp_path))
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 15_000)
    answer = serverless.lambda_handler({"max_seconds": 10}, context)
    assert answer["done"] == {} and answer["work_left"] is False and answer["clean"]
    assert answer["next_due"] is not None, "the product's schedules say when to come back"
    no_time = SimpleNamespace(get_remaining_time_in_millis=lambda: 1_000)
    assert "error" in serverless.lambda_handler({}, no_time)


def test_http__refuses_to_start_without_a_secret(db_url: str) -> None:
    with pytest.raises(ConfigError, match="FLUFFYMAIL_DRAIN_SECRET"):
        create_app(config(db_url))
    with pytest.raises(ConfigError):
        create_app(config(db_url, drain_secret=""))


async def test_http__drain_needs_the_secret_and_says_whether_work_is_left(jobs_db: str) -> None:
    async with client(config(jobs_db, drain_secret=SECRET)) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": SECRET}):
            refused = await http.post("/drain", headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        auth = {"Authorization": f"Bearer {SECRET}"}
        assert (await http.post("/drain?max_seconds=21", headers=auth)).status_code == 422
        assert (await http.post("/drain?max_seconds=0", headers=auth)).status_code == 422
        assert (await http.get("/drain", headers=auth)).status_code == 405

        send(jobs_db, "acc-noop", "{}", 4)
        done = await http.post("/drain", headers=auth)
        assert done.status_code == 200 and done.json()["done"] == {"acc-noop": 4}

        send(jobs_db, "acc-slow", '{"sleep": 3600}')  # runs out the budget
        first = asyncio.ensure_future(http.post("/drain?max_seconds=3", headers=auth))
        await asyncio.sleep(0.5)
        busy = await http.post("/drain", headers=auth)
        assert busy.status_code == 409, "one run at a time per server"
        left = await first
        assert left.status_code == WORK_LEFT and left.headers["retry-after"] == "0"
        assert left.json()["work_left"] is True
