"""The rows the store writes without a per-row foreign key check (migration 0057) go with their
parents as the cascades took them: a thread's keys with the thread (emptied, or with its user),
message locations with their folder (with its connection) or their message; and the deletion of
a folder or of a stored message waits for a batch linking mail to it, then takes those links."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, IncomingMessage
from fluffymail.crm.mail.prepare import prepare
from fluffymail.crm.messages.parse import parse_message
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.integration.mail.conftest import message, wait_blocked, write_mbox


async def rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


async def _synced(
    pool: AsyncConnectionPool, queue: JobQueue, file_connection, path: Path, email: str
) -> Connection:
    replies = "In-Reply-To: <m1@example.com>\nReferences: <m1@example.com>\n"
    mail = [message(1, subject="plans"), message(2, extra=replies), message(3)]  # two threads
    mbox = write_mbox(path, mail)
    connection = await file_connection(mbox, email)
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    return connection


async def test_thread_keys__go_with_their_thread_and_their_user(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    await _synced(pool, queue, file_connection, tmp_path / "a.mbox", "ann@example.com")
    await _synced(pool, queue, file_connection, tmp_path / "b.mbox", "bob@example.com")
    keys = "SELECT u.email, count(*) FROM crm.thread_keys k JOIN crm.users u ON u.id = k.user_id"
    per_user = f"{keys} GROUP BY 1 ORDER BY 1"
    [(_, ann_keys), (_, bob_keys)] = await rows(pool, per_user)

    await rows(  # a thread deleted (as recount_threads deletes an emptied one)
        pool,
        "DELETE FROM crm.threads WHERE id = (SELECT min(t.id) FROM crm.threads t"
        " JOIN crm.users u ON u.id = t.user_id WHERE u.email = 'ann@example.com') RETURNING id",
    )
    orphans = "SELECT count(*) FROM crm.thread_keys k WHERE NOT EXISTS"
    orphans += " (SELECT 1 FROM crm.threads t WHERE t.id = k.thread_id)"
    assert await rows(pool, orphans) == [(0,)]
    [(_, fewer), (_, same)] = await rows(pool, per_user)
    assert fewer < ann_keys and same == bob_keys

    await rows(pool, "DELETE FROM crm.users WHERE email = 'ann@example.com' RETURNING id")
    assert await rows(pool, per_user) == [("bob@example.com", bob_keys)]


async def test_message_folders__go_with_their_folder_and_its_connection(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    first = await _synced(pool, queue, file_connection, tmp_path / "a.mbox", "ann@example.com")
    second = await _synced(pool, queue, file_connection, tmp_path / "b.mbox", "ann@example.com")
    held = (
        "SELECT f.connection_id, count(*) FROM crm.message_folders mf"
        " JOIN crm.folders f ON f.id = mf.folder_id GROUP BY 1 ORDER BY 1"
    )
    assert await rows(pool, held) == [(first.id, 3), (second.id, 3)]

    await rows(pool, "DELETE FROM crm.messages WHERE subject = 'hello 3' RETURNING id")
    assert await rows(pool, held) == [(first.id, 2), (second.id, 2)]
    await rows(pool, "DELETE FROM crm.folders WHERE connection_id = %s RETURNING id", first.id)
    await rows(pool, "DELETE FROM crm.connections WHERE id = %s RETURNING id", second.id)
    assert await rows(pool, "SELECT count(*) FROM crm.message_folders") == [(0,)]


async def _deleted_while_linking(
    pool: AsyncConnectionPool, connection: Connection, mail: list[bytes], deletion: str
) -> None:
    """Store `mail` into the connection's folder as a new batch; `deletion` (of the folder or
    of a message the batch links) runs from another session while the batch is uncommitted,
    and must wait for it."""
    [(folder,)] = await rows(pool, "SELECT name FROM crm.folders")
    batch = [
        prepare(IncomingMessage(folder=folder, source_id=f"new-{n}", parsed=parse_message(raw)))
        for n, raw in enumerate(mail)
    ]
    async with pool.connection() as other:
        async with pool.connection() as conn, conn.transaction():
            await mail_repo.store_messages(
                conn,
                user_id=connection.user_id,
                connection_id=connection.id,
                messages=batch,
                now=datetime.now(UTC),
            )
            deleting = asyncio.create_task(other.execute(deletion))
            await wait_blocked(pool, other.info.backend_pid, deleting)
        await deleting


async def test_folder_deletion__waits_for_the_batch_linking_mail_to_it(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    """The links' foreign key check locked their folder; the store locks the batch's folders
    once instead (ensure_folders.sql): a deletion in between waits, then takes the links."""
    del registry
    connection = await _synced(pool, queue, file_connection, tmp_path / "a.mbox", "ann@x.com")
    await _deleted_while_linking(
        pool, connection, [message(4), message(5)], "DELETE FROM crm.folders"
    )
    assert await rows(pool, "SELECT count(*) FROM crm.message_folders") == [(0,)]
    assert await rows(pool, "SELECT count(*) FROM crm.messages") == [(5,)]  # in no folder now


async def test_message_deletion__waits_for_the_batch_linking_the_stored_message(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    """The links' check locked their message; the store locks the stored messages it finds
    instead (find_existing_messages.sql): a deletion in between waits, then takes the links."""
    del registry
    connection = await _synced(pool, queue, file_connection, tmp_path / "a.mbox", "ann@x.com")
    deletion = "DELETE FROM crm.messages WHERE subject = 'hello 3'"
    await _deleted_while_linking(pool, connection, [message(3), message(4)], deletion)
    linked = (
        "SELECT m.subject FROM crm.message_folders mf JOIN crm.messages m ON m.id = mf.message_id"
    )
    assert sorted(await rows(pool, linked)) == [("hello 2",), ("hello 4",), ("plans",)]
    assert await rows(pool, "SELECT count(*) FROM crm.message_folders") == [(3,)]  # none dangling
