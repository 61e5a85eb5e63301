"""Mail deleted on a real Dovecot leaves the CRM: the message, its thread count, its contacts'
counts and scores; a message another connection still holds stays, and keeps its privacy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import FrozenClock
from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, ConnectionKind
from fluffymail.crm.relationships import analysis, summarizing
from fluffymail.crm.relationships.summaries import EXTRACTIVE
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.imap import ImapSource
from fluffymail.integrations.mail.source import MailSource
from fluffymail.jobs import build_registry, summarize_relationship, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner
from fluffymail.queue.registry import Registry
from fluffymail.web.services import messages as messages_service
from tests.integration.conftest import Sql
from tests.integration.connection_counts import assert_counts_kept
from tests.integration.relationships.conftest import NOW, USER, Mail, extract_all, render

from .conftest import Dovecot

Seed = Callable[[str, str, list[bytes]], None]
BOB = "bob@partner.example"
THREAD = [
    Mail(sender=USER, to=BOB, subject="Plans", days_ago=10),
    Mail(sender=BOB, to=USER, subject="Re: Plans", days_ago=9),
    Mail(sender=USER, to=BOB, subject="Re: Plans", days_ago=8),
    Mail(sender=BOB, to=USER, subject="Re: Plans", days_ago=7),
]


@pytest.fixture
async def registry(
    db_url: str, pool: AsyncConnectionPool, queue: JobQueue, tmp_path: Path
) -> Registry:
    """The job queues exist (a sync sends extraction, analysis and summary jobs)."""
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data")
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    built = build_registry(deps, FrozenClock(NOW))
    await runner.prepare(queue, built)
    return built


async def connect(pool: AsyncConnectionPool, kind: ConnectionKind, source: str) -> Connection:
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, USER)
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=kind, source=source
        )
    return connection


async def sync(
    pool: AsyncConnectionPool, queue: JobQueue, connection: Connection, source: MailSource
) -> sync_emails.SyncResult:
    result = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=FrozenClock(NOW), source=source
    )
    await extract_all(pool)
    return result


def expunge(server: Dovecot, user: str, folder: str, subject: str, *, move_to: str = "") -> None:
    """Delete (or move) the folder's messages with this exact subject on the server."""
    with server.client(user) as client:
        client.select_folder(folder)
        uids = client.search(["HEADER", "Subject", subject])
        assert uids, f"no {subject!r} in {folder}"
        if move_to:
            client.create_folder(move_to)
            client.copy(uids, move_to)
        client.delete_messages(uids)
        client.expunge()


async def analyze(pool: AsyncConnectionPool, user_id: int) -> analysis.AnalysisResult:
    async with pool.connection() as conn:
        return await analysis.analyze_user(conn, user_id, now=NOW)


async def bob(sql: Sql) -> dict[str, Any]:
    """Bob's relationship and contact counts."""
    rows = await sql.all(
        "SELECT r.sent, r.received, r.score, c.received_from_count, c.sent_to_count"
        " FROM crm.contacts c JOIN crm.contact_addresses a ON a.contact_id = c.id"
        " LEFT JOIN crm.relationships r ON r.contact_id = c.id WHERE a.address = %s",
        BOB,
    )
    sent, received, score, received_from, sent_to = rows[0]
    return {"sent": sent, "received": received, "score": score,
            "received_from_count": received_from, "sent_to_count": sent_to}  # fmt: skip


async def test_deleted_on_the_server__leaves_the_crm_and_its_scores(
    dovecot: Dovecot,
    imap_user: str,
    seed: Seed,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
) -> None:
    del registry
    seed(imap_user, "INBOX", [render(m, n) for n, m in enumerate(THREAD)])
    connection = await connect(pool, ConnectionKind.IMAP, f"imap://{imap_user}")
    source = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    assert (await sync(pool, queue, connection, source)).deleted == 0
    await analyze(pool, connection.user_id)
    before = await bob(sql)
    assert (before["sent"], before["received"], before["received_from_count"]) == (2, 2, 2)
    [gone] = await sql.all(
        "SELECT id FROM crm.messages WHERE subject = 'Re: Plans' AND from_address = %s"
        " ORDER BY date DESC LIMIT 1",
        BOB,
    )
    gone_id = gone[0]
    [[contact_id]] = await sql.all(
        "SELECT contact_id FROM crm.contact_addresses WHERE address = %s", BOB
    )
    await sql.execute(
        "INSERT INTO crm.relationship_summaries (user_id, contact_id, status, generated_by,"
        " prompt_version, summary, last_message_at) VALUES (%s, %s, 'ok', 'extractive', '1',"
        " %s::jsonb, %s)",
        connection.user_id, contact_id, f'{{"citations": [{gone_id}]}}', NOW,
    )  # fmt: skip

    expunge(dovecot, imap_user, "INBOX", "Re: Plans")  # both of Bob's replies and mine
    result = await sync(pool, queue, connection, source)

    assert result.deleted == 3 and result.as_output()["deleted"] == 3
    assert await sql.all("SELECT subject FROM crm.messages") == [("Plans",)]
    with pytest.raises(messages_service.MessageNotFound):
        await messages_service.get_message(pool, connection.user_id, gone_id)
    assert await sql.one("SELECT count(*) FROM crm.message_participants") == 2
    await assert_counts_kept(pool)
    assert await sql.one("SELECT sum(message_count) FROM crm.threads") == 1
    after_counts = await bob(sql)
    assert (after_counts["received_from_count"], after_counts["sent_to_count"]) == (0, 1)
    assert await sql.one("SELECT last_message_at FROM crm.relationship_summaries") is None
    summaries = await queue.find_jobs(name=summarize_relationship.QUEUE, limit=10)
    assert [j.data["contact_id"] for j in summaries] == [contact_id]
    await analyze(pool, connection.user_id)
    after = await bob(sql)
    assert (after["sent"], after["received"]) == (1, 0)
    assert after["score"] < before["score"]


async def test_moved_to_another_folder__is_the_same_message_and_stays(
    dovecot: Dovecot,
    imap_user: str,
    seed: Seed,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
) -> None:
    del registry
    seed(imap_user, "INBOX", [render(m, n) for n, m in enumerate(THREAD[:2])])
    connection = await connect(pool, ConnectionKind.IMAP, f"imap://{imap_user}")
    source = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    await sync(pool, queue, connection, source)
    ids = await sql.all("SELECT id, subject FROM crm.messages ORDER BY id")

    expunge(dovecot, imap_user, "INBOX", "Plans", move_to="Archive")  # INBOX is read first
    result = await sync(pool, queue, connection, source)

    assert result.deleted == 0
    assert await sql.all("SELECT id, subject FROM crm.messages ORDER BY id") == ids
    assert await sql.all(
        "SELECT f.name FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id"
        " JOIN crm.messages m ON m.id = mf.message_id WHERE m.subject = 'Plans'"
    ) == [("Archive",)]
    await assert_counts_kept(pool)


async def test_private_mailbox__its_deleted_message_kept_elsewhere_stays_private(
    dovecot: Dovecot,
    imap_user: str,
    seed: Seed,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    tmp_path: Path,
) -> None:
    """The same mail in a private IMAP mailbox and in a full-visibility export: once the
    private copy is deleted, the message stays (the export holds it) and stays private."""
    del registry
    secret = Mail(sender=BOB, to=USER, subject="Salary review", days_ago=3)
    shared = Mail(sender=BOB, to=USER, subject="Lunch", days_ago=2)
    seed(imap_user, "INBOX", [render(secret, 1)])
    private = await connect(pool, ConnectionKind.IMAP, f"imap://{imap_user}")
    await sql.execute(
        "UPDATE crm.connections SET visibility = 'metadata' WHERE id = %s", private.id
    )
    mbox = tmp_path / "export.mbox"
    envelope = b"From MAILER-DAEMON Mon Jan  1 00:00:00 2001\n"
    mbox.write_bytes(envelope + render(secret, 1) + b"\n" + envelope + render(shared, 2) + b"\n")
    export = await connect(pool, ConnectionKind.MBOX, str(mbox))
    imap = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    await sync(pool, queue, private, imap)
    await sync(pool, queue, export, FileSource(mbox))
    assert await sql.one("SELECT count(*) FROM crm.messages") == 2

    expunge(dovecot, imap_user, "INBOX", "Salary review")
    result = await sync(pool, queue, private, imap)

    assert result.deleted == 0  # the export still holds it
    await assert_counts_kept(pool)
    assert await sql.all("SELECT subject, held_private FROM crm.messages ORDER BY subject") == [
        ("Lunch", False),
        ("Salary review", True),
    ]
    plan = await summary_plan(pool, private.user_id, await sql.one(
        "SELECT contact_id FROM crm.contact_addresses WHERE address = %s", BOB
    ))  # fmt: skip
    assert plan.engine is not None and plan.engine.external and plan.request is not None
    sent = [m.subject for t in plan.request.threads for m in t.messages]
    bodies = " ".join(m.body for t in plan.request.threads for m in t.messages)
    assert sent == ["Lunch"] and "Salary review" not in bodies


async def summary_plan(pool: AsyncConnectionPool, user_id: int, contact_id: int) -> Any:
    """What the summariser would send to an external AI for this contact."""

    def engine(name: str, *, external: bool) -> summarizing.Engine:
        return summarizing.Engine(
            provider=None,  # type: ignore[arg-type]  (prepare only plans; nothing is called)
            generated_by=name,
            prompt_version="1",
            external=external,
        )

    policy = summarizing.Policy(daily_token_budget=100_000, input_token_budget=10_000)
    async with pool.connection() as conn, conn.transaction():
        return await summarizing.prepare(
            conn, user_id=user_id, contact_id=contact_id, now=NOW, policy=policy,
            external=engine("external-model", external=True),
            offline=engine(EXTRACTIVE, external=False),
        )  # fmt: skip
