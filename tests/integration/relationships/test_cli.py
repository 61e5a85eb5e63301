"""`fluffymail contacts top` against a real database: text, --json, --analyze, clear errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from fluffymail.cli import app
from fluffymail.clock import FrozenClock
from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

from .conftest import NOW, USER, Mail, exchange, extract_all, write_mbox

ALICE = "alice@partner.example"
BOB = "bob@partner.example"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FLUFFYMAIL_LOG_LEVEL", "ERROR")
    yield CliRunner()


def seed(db_url: str, path: Path, mails: list[Mail], *, extract: bool = True) -> None:
    """Import and extract `mails` for USER (what `import` plus the worker would do; without
    `extract`, what `import` alone does)."""

    async def main() -> None:
        pool = AsyncConnectionPool(db_url, kwargs={"autocommit": True}, open=False)
        await pool.open()
        queue = JobQueue(pool)
        deps = JobDeps(
            settings=Settings(database_url=db_url, data_dir=path.parent / "data"),
            pool=pool,
            queue=queue,
            log=logging.getLogger("test"),
        )
        await runner.prepare(queue, build_registry(deps, FrozenClock(NOW)))
        async with pool.connection() as conn:
            user, _ = await mail_repo.get_or_create_user(conn, USER)
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=ConnectionKind.MBOX, source=str(path)
            )
        write_mbox(path, mails)
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=FrozenClock(NOW)
        )
        if extract:
            await extract_all(pool)
        await queue.stop(grace=1)
        await pool.close()

    asyncio.run(main())


def invoke(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_contacts_top__analyze_then_text_and_json(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    mails = exchange(ALICE, "lunch", 10, replies=3) + exchange(ALICE, "offsite", 4, replies=2)
    mails += exchange(BOB, "deal", 30)
    seed(db_url, tmp_path / "box.mbox", mails)
    assert "no relationships scored" in invoke(cli, "contacts", "top", "--user", USER)
    as_of = (NOW).isoformat()
    text = invoke(cli, "contacts", "top", "--user", USER.upper(), "--analyze", "--as-of", as_of)
    assert text.index(ALICE) < text.index(BOB)
    assert "2 two-way threads" in text
    ranked = json.loads(invoke(cli, "contacts", "top", "--user", USER, "--json", "--limit", "1"))
    assert len(ranked) == 1
    first = ranked[0]
    assert (first["rank"], first["address"], first["two_way_threads"]) == (1, ALICE, 2)
    assert first["level"] and first["trend"] and first["last_interaction"].startswith("2024-06")
    assert first["evidence"][0]["message_ids"]


def test_contacts_top__before_a_worker_ran_says_the_mail_waits_for_one(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    seed(db_url, tmp_path / "box.mbox", exchange(ALICE, "lunch", 10, replies=3), extract=False)

    text = invoke(cli, "contacts", "top", "--user", USER)
    analyzed = invoke(
        cli, "contacts", "top", "--user", USER, "--analyze", "--as-of", NOW.isoformat()
    )
    as_json = cli.invoke(app, ["contacts", "top", "--user", USER, "--json"])

    for said in (text, analyzed, as_json.stderr):  # never "try --analyze", which cannot help
        assert "4 messages wait for a worker to find the people in them" in said
        assert "run `fluffymail worker` (or `fluffymail worker --drain`" in said
        assert "--analyze" not in said
    assert json.loads(as_json.stdout) == []


def test_contacts_top__unknown_user_is_a_clear_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["contacts", "top", "--user", "nobody@example.com", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""  # errors go to stderr: a `| jq` reads no "error: ..." line
    assert (  # one line, however narrow the terminal: the command it gives can be copied
        "error: unknown user 'nobody@example.com': import their mail first"
        " (fluffymail import PATH --user nobody@example.com)\n"
    ) in result.stderr


def test_contacts_top__limit_must_be_positive(cli: CliRunner) -> None:
    result = cli.invoke(app, ["contacts", "top", "--user", USER, "--limit", "0"])
    assert result.exit_code == 2


def test_contacts_top__labels_a_ranking_made_while_the_first_import_runs(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    seed(db_url, tmp_path / "box.mbox", exchange(ALICE, "lunch", 10, replies=3))
    invoke(cli, "contacts", "top", "--user", USER, "--analyze", "--as-of", NOW.isoformat())

    def importing(running: bool) -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE crm.connections SET status = %s, remaining_estimate = %s,"
                " last_synced_on = CASE WHEN %s THEN NULL ELSE now() END",
                ("syncing" if running else "ok", 300_000 if running else 0, running),
            )

    importing(True)
    text = invoke(cli, "contacts", "top", "--user", USER)
    assert "messages so far; import still running." in " ".join(text.split())
    assert text.index("Ranking from") < text.index(ALICE)
    ranked = json.loads(cli.invoke(app, ["contacts", "top", "--user", USER, "--json"]).stdout)
    assert ranked[0]["address"] == ALICE  # the JSON stays a list; the label goes to stderr
    importing(False)
    assert "import still running" not in invoke(cli, "contacts", "top", "--user", USER)
