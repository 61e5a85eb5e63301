"""Mail fixtures: users and file connections, a registry-prepared queue, tiny mailboxes on disk,
and a wait for a session blocked on a lock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, ConnectionKind
from fluffymail.jobs import build_registry
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner
from fluffymail.queue.registry import Registry


def message(n: int, *, subject: str | None = None, extra: str = "") -> bytes:
    """A small, valid RFC 5322 message, distinct per `n`."""
    return (
        f"From: Alice <alice@example.com>\nTo: bob@example.com\n"
        f"Subject: {subject or f'hello {n}'}\nDate: Mon, 1 Jan 2001 10:{n % 60:02d}:00 +0000\n"
        f"Message-ID: <m{n}@example.com>\n{extra}\nbody {n}\n"
    ).encode()


async def wait_blocked(pool: AsyncConnectionPool, pid: int, task: asyncio.Task) -> None:
    """Until the session `pid`, running `task`, waits for a lock (it must not finish first)."""
    query = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s"
    while True:
        async with pool.connection() as conn:
            if await (await conn.execute(query, (pid,))).fetchall() == [(True,)]:
                return
        assert not task.done(), "it did not wait"
        await asyncio.sleep(0.01)


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        for raw in messages:
            handle.write(b"From MAILER-DAEMON Mon Apr 18 14:23:23 2022\n" + raw + b"\n")
    return path


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path / "data")


@pytest.fixture
async def registry(settings: Settings, pool: AsyncConnectionPool, queue: JobQueue) -> Registry:
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    built = build_registry(deps, SystemClock())
    await runner.prepare(queue, built)
    return built


@pytest.fixture
def file_connection(pool: AsyncConnectionPool) -> Callable[..., object]:
    async def make(path: Path, email: str = "owner@example.com") -> Connection:
        kind = ConnectionKind.MBOX if path.suffix == ".mbox" else ConnectionKind.MAILDIR
        async with pool.connection() as conn:
            user, _ = await mail_repo.get_or_create_user(conn, email)
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=kind, source=str(path)
            )
        return connection

    return make
