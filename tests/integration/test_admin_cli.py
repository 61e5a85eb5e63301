"""`fluffymail jobs ...` against a real database: every command, --json, and clear errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from fluffymail.cli import app
from fluffymail.queue import JobQueue


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FLUFFYMAIL_LOG_LEVEL", "ERROR")
    yield CliRunner()


def seed(db_url: str) -> dict[str, int]:
    async def main() -> dict[str, int]:
        pool = AsyncConnectionPool(db_url, kwargs={"autocommit": True}, open=False)
        await pool.open()
        queue = JobQueue(pool)
        await queue.create_queue("dead")
        await queue.create_queue("sync", retry_limit=0, dead_letter="dead")
        ok, bad, waiting = await queue.insert("sync", ["ok", "bad", "waiting"])
        for job in await queue.fetch("sync", 2):
            await (
                queue.complete(job)
                if job.data == "ok"
                else queue.fail(job, ValueError("imap down"))
            )
        await queue.schedule("sync", "*/15 * * * *", {"connection_id": 1}, key="c1")
        await pool.close()
        return {"ok": ok, "bad": bad, "waiting": waiting}

    return asyncio.run(main())


def invoke(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_jobs_cli__read_commands(cli: CliRunner, db_url: str) -> None:
    ids = seed(db_url)
    stats = json.loads(invoke(cli, "jobs", "stats", "--json"))
    assert (
        stats["sync"]["completed"] == 1
        and stats["sync"]["failed"] == 1
        and stats["dead"]["created"] == 1
    )
    assert "jobs by state" in invoke(cli, "jobs", "stats")
    failed = json.loads(
        invoke(cli, "jobs", "list", "--queue", "sync", "--state", "failed", "--json")
    )
    assert [job["id"] for job in failed] == [ids["bad"]]
    shown = json.loads(invoke(cli, "jobs", "show", str(ids["bad"]), "--json"))
    assert (
        shown["attempts"][0]["outcome"] == "failed"
        and shown["attempts"][0]["error"]["message"] == "imap down"
    )
    [schedule] = json.loads(invoke(cli, "jobs", "schedules", "--json"))
    assert (schedule["name"], schedule["key"], schedule["cron"]) == ("sync", "c1", "*/15 * * * *")
    assert json.loads(invoke(cli, "jobs", "workers", "--json")) == []


def test_jobs_cli__write_commands(cli: CliRunner, db_url: str) -> None:
    ids = seed(db_url)
    assert "redrove 1 job(s)" in invoke(cli, "jobs", "redrive", "dead")
    assert "retried 1 job(s)" in invoke(cli, "jobs", "retry", "--queue", "sync")
    assert "cancelled 1 job(s)" in invoke(cli, "jobs", "cancel", str(ids["waiting"]))
    assert "paused sync" in invoke(cli, "jobs", "pause", "sync")
    assert "resumed sync" in invoke(cli, "jobs", "resume", "sync")
    assert "paused sync for 90 s" in invoke(cli, "jobs", "pause", "sync", "--for", "90")
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT paused, paused_until > now() FROM queue.queue WHERE name = 'sync'"
        )
        assert row.fetchone() == (False, True)
    assert "resumed sync" in invoke(cli, "jobs", "resume", "sync")
    stats = json.loads(invoke(cli, "jobs", "stats", "--queue", "sync", "--json"))["sync"]
    assert (stats["created"], stats["retry"], stats["cancelled"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "show", "999999"], "no job with id 999999"),
        (["jobs", "stats", "--queue", "nope"], "unknown queue 'nope'"),
        (["jobs", "pause", "nope"], "unknown queue 'nope'"),
        (["jobs", "redrive", "nope"], "unknown queue 'nope'"),
        (["jobs", "list", "--state", "exploded"], "unknown state 'exploded'"),
        (["jobs", "retry"], "give job ids, or a filter"),
    ],
)
def test_jobs_cli__clear_errors(cli: CliRunner, db_url: str, args: list[str], message: str) -> None:
    seed(db_url)
    result = cli.invoke(app, args)
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
