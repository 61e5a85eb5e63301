"""Contacts fixtures: import mail into a user's connection, extract it, and read the results."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, ConnectionKind
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner
from fluffymail.queue.registry import Registry

CLOCK = SystemClock()


def mail(
    n: int,
    *,
    sender: str,
    to: str,
    cc: str = "",
    subject: str | None = None,
    body: str = "",
    headers: str = "",
) -> bytes:
    """A small RFC 5322 message, distinct per `n`; header values are written as given."""
    lines = [f"From: {sender}"] if sender else []
    lines += [f"To: {to}"] if to else []
    lines += [f"Cc: {cc}"] if cc else []
    lines += [
        f"Subject: {subject or f'note {n}'}",
        f"Date: Mon, 1 Jan 2001 10:{n % 60:02d}:{n // 60 % 60:02d} +0000",
        f"Message-ID: <c{n}@example.com>",
    ]
    text = "\n".join(lines) + ("\n" + headers.strip() if headers.strip() else "")
    return f"{text}\n\n{body or f'body {n}'}\n".encode()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path / "data")


@pytest.fixture
async def registry(settings: Settings, pool: AsyncConnectionPool, queue: JobQueue) -> Registry:
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    built = build_registry(deps, CLOCK)
    await runner.prepare(queue, built)
    return built


ImportMail = Callable[..., Awaitable[Connection]]


@pytest.fixture
def import_mail(pool: AsyncConnectionPool, queue: JobQueue, registry: Registry) -> ImportMail:
    """Import a mailbox path for `email` (sync-emails, in process); returns its connection."""
    del registry  # the queues must exist: sync enqueues extract-contacts

    async def run(path: Path, email: str, *, policy: str | None = None) -> Connection:
        kind = ConnectionKind.MBOX if path.suffix == ".mbox" else ConnectionKind.MAILDIR
        async with pool.connection() as conn:
            user, _ = await mail_repo.get_or_create_user(conn, email)
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=kind, source=str(path)
            )
            if policy is not None:
                await conn.execute(
                    "UPDATE crm.connections SET contact_policy = %s WHERE id = %s",
                    (policy, connection.id),
                )
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=CLOCK
        )
        return connection

    return run


Extract = Callable[..., Awaitable[contacts_service.ExtractResult]]


@pytest.fixture
def extract(pool: AsyncConnectionPool) -> Extract:
    """Extract every message of the database (or those given) in batches of 100."""

    async def run(message_ids: list[int] | None = None) -> contacts_service.ExtractResult:
        async with pool.connection() as conn:
            if message_ids is None:
                cur = await conn.execute("SELECT id FROM crm.messages ORDER BY id")
                message_ids = [r[0] for r in await cur.fetchall()]
            total = contacts_service.ExtractResult()
            for i in range(0, len(message_ids), 100):
                async with conn.transaction():
                    result = await contacts_service.extract_messages(
                        conn, message_ids[i : i + 100], now=CLOCK.now()
                    )
                for key in ("messages", "automated", "links", "contacts_created", "merges"):
                    setattr(total, key, getattr(total, key) + getattr(result, key))
                total.visible_touched |= result.visible_touched
        return total

    return run


class Rows:
    """Ad-hoc reads of the contacts tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def all(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            return await (await conn.execute(query, params or None)).fetchall()

    async def one(self, query: str, *params: Any) -> Any:
        rows = await self.all(query, *params)
        return rows[0][0] if rows else None

    async def contact(self, address: str) -> dict[str, Any] | None:
        """The live contact owning `address` (after merges), as a dict."""
        rows = await self.all(
            "SELECT c.id, c.primary_address, c.name, c.created, c.suppressed_reason,"
            " c.sent_to_count, c.received_from_count, c.cc_count, c.company_id, c.is_internal,"
            " c.merged_into_id FROM crm.contact_addresses a JOIN crm.contacts c"
            " ON c.id = a.contact_id WHERE a.address = %s",
            address,
        )
        keys = (
            "id",
            "primary_address",
            "name",
            "created",
            "suppressed_reason",
            "sent_to",
            "received_from",
            "cc",
            "company_id",
            "is_internal",
            "merged_into_id",
        )
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    async def snapshot(self) -> list[tuple[Any, ...]]:
        """Everything extraction derives, to compare before and after a re-run."""
        return await self.all(
            "SELECT c.id, c.primary_address, c.name, c.created, c.suppressed_reason,"
            " c.merged_into_id, c.sent_to_count, c.received_from_count, c.cc_count,"
            " c.first_interaction_on, c.last_interaction_on, c.company_id,"
            " (SELECT count(*) FROM crm.contact_links), (SELECT sum(votes) FROM crm.contact_name_votes),"
            " (SELECT count(*) FROM crm.companies), (SELECT count(*) FROM crm.contact_merges),"
            " (SELECT count(*) FROM crm.user_aliases)"
            " FROM crm.contacts c ORDER BY c.id"
        )


@pytest.fixture
def rows(pool: AsyncConnectionPool) -> Rows:
    return Rows(pool)
