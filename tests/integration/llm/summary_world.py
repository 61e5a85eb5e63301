"""A small mailbox for summary job tests: a user, her correspondents, mail imported and extracted
through the real pipeline, and the `summarize-relationship` job run by a real queue worker.

Import the `world` fixture (and `emulator`) into a test module to use it.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import FrozenClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.integrations.llm import OpenAIProvider
from fluffymail.jobs import build_registry, summarize_relationship, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner
from tests.helpers import wait_for, write_maildir

from .emulator import ChatEmulator

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
USER = "kay@fluffy.example"
BEN = "ben@turbines.example"
CAROL = "carol@other.example"
DAVE = "dave@third.example"
DONE_STATES = ("completed", "failed", "retry", "cancelled")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    """One message to import; `n` makes its Message-ID, `reply_to` threads it under another."""

    n: int
    sender: str
    to: str
    subject: str
    body: str
    days_ago: float
    cc: str = ""
    reply_to: int | None = None

    def raw(self) -> bytes:
        date = email.utils.format_datetime(NOW - timedelta(days=self.days_ago))
        lines = [
            f"From: {self.sender}",
            f"To: {self.to}",
            *([f"Cc: {self.cc}"] if self.cc else []),
            f"Subject: {self.subject}",
            f"Date: {date}",
            f"Message-ID: <s{self.n}@example.com>",
        ]
        if self.reply_to is not None:
            lines += [
                f"In-Reply-To: <s{self.reply_to}@example.com>",
                f"References: <s{self.reply_to}@example.com>",
            ]
        return ("\n".join(lines) + f"\n\n{self.body}\n").encode()


def ben_history() -> list[Mail]:
    """A two-way history with Ben, plus mail that is not Ben's with the user."""
    return [
        Mail(n=1, sender=f"Ben Jacoby <{BEN}>", to=USER, subject="Spring turbine contract",
             body="Can you sign the spring contract by Friday?", days_ago=20),
        Mail(n=2, sender=f"Kay Mann <{USER}>", to=BEN, subject="Re: Spring turbine contract",
             body="Yes, I'll send the signed contract tomorrow.", days_ago=19, reply_to=1),
        Mail(n=3, sender=f"Ben Jacoby <{BEN}>", to=USER, subject="Delivery dates",
             body="Deliveries slip to May because of the blade supplier.", days_ago=5),
        Mail(n=4, sender=f"Carol Ng <{CAROL}>", to=USER, subject="Lunch",
             body="CAROL-SECRET: lunch next week?", days_ago=3),
        Mail(n=5, sender=f"Kay Mann <{USER}>", to=CAROL, subject="Re: Lunch",
             body="Sure, Tuesday works.", days_ago=2, reply_to=4),
        Mail(n=6, sender=f"Dave Roe <{DAVE}>", to=USER, cc=BEN, subject="Board pack",
             body="DAVE-THIRD-PARTY: the board pack is attached.", days_ago=4),
    ]  # fmt: skip


@dataclass(kw_only=True)
class World:
    pool: AsyncConnectionPool
    queue: JobQueue
    tmp: Path
    clock: FrozenClock
    provider: OpenAIProvider | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    user_id: int = 0
    _imports: int = 0
    _prepared: bool = False
    _extracted: int = 0
    _started: bool = False

    def settings(self) -> Settings:
        return Settings(database_url="postgresql://unused", data_dir=self.tmp, **self.overrides)

    async def add_mail(self, mails: list[Mail], *, visibility: str = "full") -> int:
        """Import `mails` as a new connection (inbox, and Sent for the user's own), extract them."""
        self._imports += 1
        root = self.tmp / f"mailbox{self._imports}"
        sent = [m.raw() for m in mails if USER in m.sender]
        inbox = [m.raw() for m in mails if USER not in m.sender]
        write_maildir(root, {"inbox": inbox, "Sent": sent})
        return await self.import_path(root, visibility=visibility)

    async def import_path(self, root: Path, *, user: str = USER, visibility: str = "full") -> int:
        """Import a Maildir or mbox (file or folder of them) for `user`, then extract it."""
        if not self._prepared:  # the queues sync sends to must exist
            await runner.prepare(self.queue, build_registry(self.deps(), self.clock))
            self._prepared = True
        is_mbox = root.suffix == ".mbox" or not (root / "cur").is_dir()
        kind = ConnectionKind.MBOX if is_mbox else ConnectionKind.MAILDIR
        async with self.pool.connection() as conn:
            found, _ = await mail_repo.get_or_create_user(
                conn, user, "Kay Mann" if user == USER else ""
            )
            self.user_id = found.id
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=found.id, kind=kind, source=str(root)
            )
            await conn.execute(
                "UPDATE crm.connections SET visibility = %s WHERE id = %s",
                (visibility, connection.id),
            )
        await sync_emails.sync_connection(
            pool=self.pool, queue=self.queue, connection_id=connection.id, clock=self.clock
        )
        await self._extract()
        return connection.id

    async def _extract(self) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id FROM crm.messages WHERE id > %s ORDER BY id", (self._extracted,)
            )
            ids = [r[0] for r in await cur.fetchall()]
            async with conn.transaction():
                await contacts_service.extract_messages(conn, ids, now=self.clock.now())
        self._extracted = max([self._extracted, *ids])

    async def contact(self, address: str) -> int:
        return await self.one(
            "SELECT contact_id FROM crm.contact_addresses WHERE user_id = %s AND address = %s",
            self.user_id,
            address,
        )

    async def message_id(self, n: int) -> int:
        return await self.one(
            "SELECT id FROM crm.messages WHERE message_id IN (%s, %s)",
            f"<s{n}@example.com>",
            f"s{n}@example.com",
        )

    def deps(self) -> JobDeps:
        return JobDeps(
            settings=self.settings(),
            pool=self.pool,
            queue=self.queue,
            log=logging.getLogger("test"),
            summary_provider=self.provider,
        )

    async def start(self) -> None:
        """Work the summary queue with these deps (settings and provider as set by then)."""
        if self._started:
            return
        await runner.prepare(self.queue, build_registry(self.deps(), self.clock))
        handler = summarize_relationship.make_handler(self.deps(), self.clock)
        await self.queue.work(summarize_relationship.QUEUE, handler)
        self._started = True

    async def summarize(self, address: str = BEN) -> dict[str, Any]:
        """Send the contact's job, wait until the worker is done with it; the job's row."""
        await self.start()
        contact_id = await self.contact(address)
        sent = await summarize_relationship.enqueue_many(self.queue, self.user_id, [contact_id])
        assert sent == 1
        job_id = await self.one(
            "SELECT max(id) FROM queue.job WHERE name = %s", summarize_relationship.QUEUE
        )
        return await self.wait_job(job_id)

    async def wait_job(self, job_id: int, states: tuple[str, ...] = DONE_STATES) -> dict[str, Any]:
        """The job's row once its state is one of `states`."""

        async def done() -> bool:
            state = await self.one("SELECT state::text FROM queue.job WHERE id = %s", job_id)
            return state in states

        await wait_for(done)
        rows = await self.all(
            "SELECT id, state::text, output, retry_count, start_after FROM queue.job WHERE id = %s",
            job_id,
        )
        keys = ("id", "state", "output", "retry_count", "start_after")
        return dict(zip(keys, rows[0], strict=True))

    async def wait_job_state(self, job_id: int, state: str) -> dict[str, Any]:
        return await self.wait_job(job_id, (state,))

    async def stored(self, address: str = BEN) -> dict[str, Any] | None:
        rows = await self.all(
            "SELECT status, generated_by, prompt_version, summary, error, input_tokens,"
            " output_tokens, last_message_at, created_on FROM crm.relationship_summaries"
            " WHERE user_id = %s AND contact_id = %s",
            self.user_id,
            await self.contact(address),
        )
        keys = (
            "status",
            "generated_by",
            "prompt_version",
            "summary",
            "error",
            "input_tokens",
            "output_tokens",
            "last_message_at",
            "created_on",
        )
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    async def usage(self) -> tuple[int, int]:
        rows = await self.all(
            "SELECT tokens, calls FROM crm.ai_usage WHERE user_id = %s AND day = %s",
            self.user_id,
            self.clock.now().date(),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    async def execute(self, query: str, *params: Any) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(query, params or None)

    async def all(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            return await (await conn.execute(query, params or None)).fetchall()

    async def one(self, query: str, *params: Any) -> Any:
        rows = await self.all(query, *params)
        return rows[0][0] if rows else None


@pytest.fixture
def emulator() -> Iterator[ChatEmulator]:
    server = ChatEmulator().start()
    yield server
    server.stop()


@pytest.fixture
async def world(pool: AsyncConnectionPool, queue: JobQueue, tmp_path: Path) -> AsyncIterator[World]:
    made = World(pool=pool, queue=queue, tmp=tmp_path, clock=FrozenClock(current=NOW))
    yield made
    if made.provider is not None:
        await made.provider.aclose()


def openai_provider(emulator: ChatEmulator, **overrides: Any) -> OpenAIProvider:
    options: dict[str, Any] = {
        "api_key": "sk-test", "model": "gpt-test", "base_url": emulator.base_url, "timeout": 5.0,
        **overrides,
    }  # fmt: skip
    return OpenAIProvider(**options)
