"""A Dovecot that freezes in the middle of a sync: the connection reads "stalled" within
10 s (long before the 60 s read timeout), then syncs on once the server answers again; a
refused connection is recorded as a sentence, not a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.integrations.mail.imap import ImapSource
from fluffymail.integrations.mail.source import TransientSourceError
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from fluffymail.web.services import connections as connections_service
from tests.helpers import wait_for
from tests.integration.mail.conftest import message, registry, settings  # noqa: F401

from .conftest import Dovecot

Seed = Callable[[str, str, list[bytes]], None]


def family(pid: int) -> list[int]:
    """`pid` and every process descended from it (Dovecot's login, auth and imap children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = [pid]
    for current in found:
        found += [child for child, parent in parents.items() if parent == current]
    return found


@contextlib.contextmanager
def frozen(server: Dovecot) -> Iterator[None]:
    """Stop every Dovecot process (sockets stay open, nothing answers); resume on exit."""
    pids = family(server.pid)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def test_frozen_server__reads_stalled_within_10_s_then_syncs_on(
    dovecot: Dovecot,
    imap_user: str,
    seed: Seed,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,  # noqa: F811
) -> None:
    del registry
    seed(imap_user, "INBOX", [message(n) for n in range(4)])
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, "owner@example.com")
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=ConnectionKind.IMAP, source=f"imap://{imap_user}"
        )
    source = ImapSource(dovecot.config(imap_user, page_size=1), policy=dovecot.policy)
    first_batch = asyncio.Event()

    def progressed(_: sync_emails.SyncProgress) -> None:
        first_batch.set()

    sync = asyncio.create_task(
        sync_emails.sync_connection(
            pool=pool,
            queue=queue,
            connection_id=connection.id,
            clock=SystemClock(),
            source=source,
            batch_size=1,
            on_progress=progressed,
        )
    )
    await asyncio.wait_for(first_batch.wait(), 20)
    with frozen(dovecot):

        async def stalled() -> bool:
            view = await connections_service.get_connection(pool, user.id, connection.id)
            return view.state == "stalled"

        await wait_for(stalled, within=60)  # a hang bound; how soon is not asserted here
        view = await connections_service.get_connection(pool, user.id, connection.id)
        assert view.state == "stalled" and view.stalled_seconds is not None
        assert view.progress_folder == "INBOX" and view.seen_count >= 1
        assert not sync.done()

    result = await asyncio.wait_for(sync, 60)
    assert result.seen == 4
    view = await connections_service.get_connection(pool, user.id, connection.id)
    assert view.state == "ok" and view.stalled_seconds is None


async def test_refused_connection__is_recorded_as_a_sentence(
    dovecot: Dovecot,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    del registry
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Dovecot(host=dovecot.host, port=port, root=dovecot.root)
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, "owner@example.com")
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=ConnectionKind.IMAP, source="imap://nobody"
        )
    source = ImapSource(closed.config("user1"), policy=closed.policy)
    with (
        caplog.at_level(logging.WARNING, logger="fluffymail.jobs.sync_emails"),
        pytest.raises(TransientSourceError),
    ):
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(), source=source
        )
    view = await connections_service.get_connection(pool, user.id, connection.id)
    assert (view.state, view.last_error) == ("failed", "the mail server refused the connection")
    [logged] = [r for r in caplog.records if getattr(r, "action", "") == "mail.sync_failed"]
    assert "TransientSourceError" in logged.error and "connection refused" in logged.error
