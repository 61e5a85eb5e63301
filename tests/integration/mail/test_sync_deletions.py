"""Deletions through the sync job: Gmail `messagesDeleted` history records and mail moved to
Trash or Spam, and a message gone from a fully re-imported file (an incremental sync of the
same file deletes nothing)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, ConnectionKind
from fluffymail.db import migrate
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.source import MailSource
from fluffymail.jobs import delete_connection, sync_emails
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.integration.conftest import Sql
from tests.integration.connection_counts import assert_counts_kept
from tests.integration.gmail.conftest import emulator, make_source, sleeps  # noqa: F401
from tests.integration.gmail.emulator import GmailEmulator
from tests.integration.mail.conftest import message, write_mbox


async def sync(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    connection: Connection,
    source: MailSource,
    *,
    full: bool = False,
) -> sync_emails.SyncResult:
    return await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(),
        source=source, full=full,
    )  # fmt: skip


async def gmail_connection(pool: AsyncConnectionPool) -> Connection:
    """The Gmail connection of owner@example.com, who is made first."""
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, "owner@example.com")
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=ConnectionKind.GMAIL, source="owner@example.com"
        )
    return connection


async def test_gmail_messages_deleted__leave_the_crm(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    emulator: GmailEmulator,  # noqa: F811
    make_source: Callable[..., MailSource],  # noqa: F811
    caplog,
) -> None:
    del registry
    ids = [emulator.add_message(message(n), ("INBOX",)) for n in range(3)]
    connection = await gmail_connection(pool)
    source = make_source()
    await sync(pool, queue, connection, source)
    assert await sql.one("SELECT count(*) FROM crm.messages") == 3
    calendar = await queue.find_jobs(name="sync-calendar")  # a Gmail sync sends its calendar's
    assert [j.data["connection_id"] for j in calendar] == [connection.id]

    emulator.delete_message(ids[1])
    with caplog.at_level(logging.INFO, logger="fluffymail.jobs.sync_emails"):
        result = await sync(pool, queue, connection, source)

    assert result.as_output()["deleted"] == 1
    assert await sql.all("SELECT subject FROM crm.messages ORDER BY subject") == [
        ("hello 0",),
        ("hello 2",),
    ]
    assert any(getattr(r, "action", "") == "mail.deleted" for r in caplog.records)
    await assert_counts_kept(pool)


async def test_gmail_trash_and_spam__leave_the_crm_and_come_back_when_undone(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    emulator: GmailEmulator,  # noqa: F811
    make_source: Callable[..., MailSource],  # noqa: F811
) -> None:
    """Gmail keeps trashed mail 30 days and writes no `messagesDeleted` until then: moving a
    message to Trash or Spam is its deletion for the CRM (as on an IMAP server, whose Trash
    and Junk are not read); "Not spam" or restoring from Trash brings it back, and so does
    "Not spam" for mail that arrived as spam. Reading or starring a message changes nothing."""
    del registry
    ids = [emulator.add_message(message(n), ("INBOX",)) for n in range(3)]
    arrived_as_spam = emulator.add_message(message(3), ("SPAM",))
    connection = await gmail_connection(pool)
    source = make_source()
    await sync(pool, queue, connection, source)

    async def subjects() -> list[str]:
        return [s for (s,) in await sql.all("SELECT subject FROM crm.messages ORDER BY subject")]

    assert await subjects() == ["hello 0", "hello 1", "hello 2"]

    emulator.change_labels(ids[0], add=("TRASH",), remove=("INBOX",))
    emulator.change_labels(ids[1], add=("SPAM",), remove=("INBOX",))
    emulator.change_labels(ids[2], add=("STARRED",), remove=("UNREAD",))
    fetched = emulator.calls.get("messages.get", 0)
    result = await sync(pool, queue, connection, source)
    assert result.as_output()["deleted"] == 2
    assert await subjects() == ["hello 2"]
    assert emulator.calls.get("messages.get", 0) == fetched, "a star fetches nothing"

    emulator.change_labels(ids[0], add=("INBOX",), remove=("TRASH",))  # restored
    emulator.change_labels(arrived_as_spam, add=("INBOX",), remove=("SPAM",))  # not spam
    emulator.change_labels(ids[1], add=("INBOX",), remove=("SPAM",))
    emulator.change_labels(ids[1], add=("TRASH",), remove=("INBOX",))  # then trashed after all
    result = await sync(pool, queue, connection, source)
    assert result.as_output()["deleted"] == 0
    assert await subjects() == ["hello 0", "hello 2", "hello 3"]
    await assert_counts_kept(pool)


async def test_gmail_history_expired__the_full_listing_drops_what_was_deleted_meanwhile(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    emulator: GmailEmulator,  # noqa: F811
    make_source: Callable[..., MailSource],  # noqa: F811
) -> None:
    """A connection idle past Gmail's history (a week, sometimes hours) is listed again from
    scratch; the mail deleted in between is not in that listing and leaves the CRM."""
    del registry
    ids = [emulator.add_message(message(n), ("INBOX",)) for n in range(3)]
    connection = await gmail_connection(pool)
    source = make_source()
    await sync(pool, queue, connection, source)
    kept = await sql.all("SELECT id, subject FROM crm.messages WHERE subject <> 'hello 1'")

    emulator.delete_message(ids[1])
    emulator.add_message(message(3), ("INBOX",))
    emulator.expire_history()
    result = await sync(pool, queue, connection, source)

    assert result.as_output()["deleted"] == 1
    subjects = await sql.all("SELECT id, subject FROM crm.messages ORDER BY subject")
    assert [s for _, s in subjects] == ["hello 0", "hello 2", "hello 3"]
    assert set(kept) <= set(subjects)  # the rest keep their ids
    await assert_counts_kept(pool)


async def test_file_reimport__a_message_gone_from_the_new_export_leaves_the_crm(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    file_connection,
    tmp_path: Path,
) -> None:
    del registry
    mbox = write_mbox(tmp_path / "export.mbox", [message(n) for n in range(4)])
    connection = await file_connection(mbox)
    await sync(pool, queue, connection, FileSource(mbox))
    kept = await sql.all("SELECT id, subject FROM crm.messages WHERE subject <> 'hello 1'")

    write_mbox(mbox, [message(4)])  # appended: an incremental sync reads only the new mail
    assert (await sync(pool, queue, connection, FileSource(mbox))).deleted == 0
    mbox.unlink()  # a newer export without "hello 1" (its offsets now name other mail)
    write_mbox(mbox, [message(n) for n in (0, 2, 3, 4)])
    full = await sync(pool, queue, connection, FileSource(mbox), full=True)

    assert full.deleted == 1
    subjects = await sql.all("SELECT id, subject FROM crm.messages ORDER BY id")
    assert [s for _, s in subjects] == ["hello 0", "hello 2", "hello 3", "hello 4"]
    assert set(kept) <= set(subjects)  # the messages still there keep their ids
    assert await sql.one("SELECT count(*) FROM crm.message_folders") == 4
    await assert_counts_kept(pool)


async def test_file_reimport__a_folder_gone_from_the_new_export_takes_its_mail_with_it(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    file_connection,
    tmp_path: Path,
) -> None:
    """A newer export without a whole folder (a label deleted before the export): a full
    re-read never names it, so its mail leaves the CRM, unless another folder holds it."""
    del registry
    export = tmp_path / "export"
    export.mkdir()
    write_mbox(export / "Inbox.mbox", [message(0), message(1)])
    write_mbox(export / "Projects.mbox", [message(1), message(2)])
    connection = await file_connection(export)
    await sync(pool, queue, connection, FileSource(export))
    assert await sql.one("SELECT count(*) FROM crm.messages") == 3

    (export / "Projects.mbox").unlink()
    assert (await sync(pool, queue, connection, FileSource(export))).deleted == 0, "incremental"
    full = await sync(pool, queue, connection, FileSource(export), full=True)

    assert full.deleted == 1  # "hello 1" stays: the inbox holds it too
    assert await sql.all("SELECT subject FROM crm.messages ORDER BY subject") == [
        ("hello 0",),
        ("hello 1",),
    ]
    assert await sql.one("SELECT count(*) FROM crm.message_folders") == 2
    await assert_counts_kept(pool)


async def test_killed_sync__the_mail_it_found_deleted_leaves_the_crm_at_the_next_sync(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    file_connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch that finds a message deleted records it in its own transaction, so a worker
    killed before the sync's end (its memory gone, no clean-up run) leaves the message to the
    connection's next sync, which deletes it."""
    del registry
    mbox = write_mbox(tmp_path / "export.mbox", [message(n) for n in range(3)])
    connection = await file_connection(mbox)
    await sync(pool, queue, connection, FileSource(mbox))
    mbox.unlink()  # a newer export without "hello 1"
    write_mbox(mbox, [message(n) for n in (0, 2)])

    async def killed(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the worker died here")

    async def no_clean_up(*args: object, **kwargs: object) -> None:
        return None

    with monkeypatch.context() as patched:
        patched.setattr(sync_emails, "_finish", killed)
        patched.setattr(sync_emails, "_delete_unlinked", no_clean_up)
        with pytest.raises(RuntimeError, match="the worker died here"):
            await sync(pool, queue, connection, FileSource(mbox), full=True)
    orphan = (
        "SELECT m.subject FROM crm.messages m WHERE NOT EXISTS"
        " (SELECT 1 FROM crm.message_folders f WHERE f.message_id = m.id)"
    )
    assert await sql.all(orphan) == [("hello 1",)]  # in no folder, still in the CRM

    await _next_sync_deletes_hello_1(pool, queue, sql, connection, mbox)


async def test_migration_0047__mail_a_killed_worker_left_in_no_folder_goes_at_the_next_sync(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    file_connection,
    tmp_path: Path,
) -> None:
    """Before 0047 a killed worker's unlinked mail stayed for ever; the upgrade gives it to
    one of the user's connections, whose next sync deletes what is still in no folder."""
    del registry
    mbox = write_mbox(tmp_path / "export.mbox", [message(n) for n in range(3)])
    connection = await file_connection(mbox)
    await sync(pool, queue, connection, FileSource(mbox))
    async with pool.connection() as conn:
        await conn.execute("DROP TABLE crm.message_unlinked")  # the database before 0047
        await conn.execute("DELETE FROM schema_migrations WHERE version = 47")
        await conn.execute(  # what a killed worker left: "hello 1" in no folder
            "DELETE FROM crm.message_folders WHERE message_id IN"
            " (SELECT id FROM crm.messages WHERE subject = 'hello 1')"
        )
        assert [m.version for m in await migrate.upgrade(conn)] == [47]

    await _next_sync_deletes_hello_1(pool, queue, sql, connection, mbox)


async def _next_sync_deletes_hello_1(
    pool: AsyncConnectionPool, queue: JobQueue, sql: Sql, connection: Connection, mbox: Path
) -> None:
    again = await sync(pool, queue, connection, FileSource(mbox))

    assert again.deleted == 1
    subjects = await sql.all("SELECT subject FROM crm.messages ORDER BY subject")
    assert subjects == [("hello 0",), ("hello 2",)]
    assert await sql.one("SELECT count(*) FROM crm.message_unlinked") == 0
    await assert_counts_kept(pool)


async def test_deleted_connection__summaries_citing_its_mail_go_stale(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    sql: Sql,
    file_connection,
    tmp_path: Path,
) -> None:
    del registry
    mbox = write_mbox(tmp_path / "export.mbox", [message(1), message(2)])
    connection = await file_connection(mbox)
    await sync(pool, queue, connection, FileSource(mbox))
    cited = await sql.one("SELECT min(id) FROM crm.messages")
    await sql.execute(
        "INSERT INTO crm.contacts (user_id, primary_address, created_on, updated_on)"
        " VALUES (%s, 'x@example.com', now(), now())",
        connection.user_id,
    )
    await sql.execute(
        "INSERT INTO crm.relationship_summaries (user_id, contact_id, status, generated_by,"
        " prompt_version, summary, last_message_at) SELECT %s, id, 'ok', 'extractive', '1',"
        " jsonb_build_object('citations', jsonb_build_array(%s::bigint)), now()"
        " FROM crm.contacts",
        connection.user_id,
        cited,
    )
    await sql.execute("UPDATE crm.connections SET deleting_on = now()")

    args = delete_connection.Args(connection_id=connection.id, user_id=connection.user_id)
    done = await delete_connection.delete_connection(
        pool=pool, queue=queue, args=args, clock=SystemClock()
    )

    assert done.messages == 2
    assert await sql.one("SELECT last_message_at FROM crm.relationship_summaries") is None
