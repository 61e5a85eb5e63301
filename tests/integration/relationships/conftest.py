"""Relationship fixtures: crafted mail imported and extracted for a user, then analysed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import FrozenClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.crm.relationships import analysis
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner
from fluffymail.queue.registry import Registry

USER = "me@acme.example"
NOW = datetime(2024, 7, 1, 12, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    """One crafted message; `days_ago` is measured from NOW."""

    sender: str
    to: str
    subject: str
    days_ago: float
    cc: str = ""
    headers: str = ""
    body: str = ""  # default: "message <n> about <subject>"


def render(mail: Mail, n: int) -> bytes:
    at = NOW - timedelta(days=mail.days_ago)
    lines = [f"From: {mail.sender}", f"To: {mail.to}"]
    lines += [f"Cc: {mail.cc}"] if mail.cc else []
    lines += [
        f"Subject: {mail.subject}",
        f"Date: {format_datetime(at)}",
        f"Message-ID: <m{n}.{abs(hash((mail.subject, mail.days_ago, mail.sender)))}@test>",
    ]
    lines += [mail.headers.strip()] if mail.headers.strip() else []
    body = mail.body or f"message {n} about {mail.subject}"
    return ("\n".join(lines) + f"\n\n{body}\n").encode()


def write_mbox(path: Path, mails: list[Mail], start: int = 0) -> Path:
    chunks = [
        b"From MAILER-DAEMON Mon Jan  1 00:00:00 2001\n" + render(m, start + i) + b"\n"
        for i, m in enumerate(mails)
    ]
    path.write_bytes(b"".join(chunks))
    return path


def exchange(other: str, subject: str, days_ago: float, *, replies: int = 1) -> list[Mail]:
    """A thread the user starts with `other`, answered back and forth `replies` times."""
    mails = [Mail(sender=USER, to=other, subject=subject, days_ago=days_ago)]
    for k in range(1, replies + 1):
        back = k % 2 == 1
        mails.append(
            Mail(
                sender=other if back else USER,
                to=USER if back else other,
                subject=f"Re: {subject}",
                days_ago=days_ago - k * 0.1,
            )
        )
    return mails


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path / "data")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def deps(settings: Settings, pool: AsyncConnectionPool, queue: JobQueue) -> JobDeps:
    return JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))


@pytest.fixture
async def registry(deps: JobDeps, queue: JobQueue, clock: FrozenClock) -> Registry:
    built = build_registry(deps, clock)
    await runner.prepare(queue, built)
    return built


Load = Callable[..., Awaitable[int]]


@pytest.fixture
def load(pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, tmp_path: Path) -> Load:
    """Import `mails` for the user (a new mbox each call), extract them; returns the user id."""
    del registry  # the queues must exist: sync enqueues follow-up jobs
    calls = [0]

    async def run(mails: list[Mail], *, extract: bool = True) -> int:
        calls[0] += 1
        path = write_mbox(tmp_path / f"box{calls[0]}.mbox", mails, start=calls[0] * 10_000)
        async with pool.connection() as conn:
            user, _ = await mail_repo.get_or_create_user(conn, USER)
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=ConnectionKind.MBOX, source=str(path)
            )
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=FrozenClock(NOW)
        )
        if extract:
            await extract_all(pool)
        return user.id

    return run


async def extract_all(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT message_id FROM crm.message_pending ORDER BY message_id")
        ids = [r[0] for r in await cur.fetchall()]
        async with conn.transaction():
            await contacts_service.extract_messages(conn, ids, now=NOW)


Analyze = Callable[..., Awaitable[analysis.AnalysisResult]]


@pytest.fixture
def analyze(pool: AsyncConnectionPool) -> Analyze:
    async def run(user_id: int, *, full: bool = False, now: datetime = NOW) -> Any:
        async with pool.connection() as conn:
            return await analysis.analyze_user(conn, user_id, now=now, full=full)

    return run


class Rows:
    """Reads of the relationship tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def all(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            return await (await conn.execute(query, params or None)).fetchall()

    async def one(self, query: str, *params: Any) -> Any:
        rows = await self.all(query, *params)
        return rows[0][0] if rows else None

    async def scores(self, user_id: int) -> dict[str, float]:
        """primary address -> score."""
        rows = await self.all(
            "SELECT c.primary_address, r.score FROM crm.relationships r"
            " JOIN crm.contacts c ON c.id = r.contact_id WHERE r.user_id = %s",
            user_id,
        )
        return {a: s for a, s in rows}

    async def snapshot(self, user_id: int) -> dict[int, tuple[Any, ...]]:
        """Everything stored per contact except computed_on."""
        rows = await self.all(
            "SELECT contact_id, score, level, trend, going_cold, sent, received, two_way_threads,"
            " first_at, last_at, evidence, stats, state FROM crm.relationships"
            " WHERE user_id = %s ORDER BY contact_id",
            user_id,
        )
        return {r[0]: rounded(r[1:]) for r in rows}

    async def contact_id(self, address: str) -> int:
        return await self.one(
            "SELECT contact_id FROM crm.contact_addresses WHERE address = %s", address
        )


def rounded(value: Any) -> Any:
    """Floats to 9 significant digits, recursively: the incremental decayed sums differ from
    a full scan's only in the last bits."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(rounded(v) for v in value)
    return value


@pytest.fixture
def rows(pool: AsyncConnectionPool) -> Rows:
    return Rows(pool)
