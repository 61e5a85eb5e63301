"""Sync cursors as one row per folder (issue 19): a batch writes only the folder it moved, in
place, so the table stays one page however many batches an import has; migration 0032 moved
the old one-document cursors over."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.db import migrate
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.helpers import write_maildir
from tests.integration.mail.conftest import message

FOLDERS = ("inbox", "archive", "sent")
PER_FOLDER = 20


async def fetch(pool: AsyncConnectionPool, query: str) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query)).fetchall()


async def test_multi_folder_sync__one_row_per_folder_written_only_when_it_moves(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    mail = {
        name: [message(index * PER_FOLDER + n) for n in range(PER_FOLDER)]
        for index, name in enumerate(FOLDERS)
    }
    connection = await file_connection(write_maildir(tmp_path / "mail", mail))
    source = FileSource(connection.source, page_size=2)

    result = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(),
        source=source, batch_size=2,
    )  # fmt: skip

    assert result.batches >= len(FOLDERS) * PER_FOLDER // 2
    parts = await fetch(
        pool,
        "SELECT folder, position ->> 'last', xmin::text::bigint FROM crm.sync_cursors"
        " ORDER BY xmin::text::bigint",
    )
    assert [p[0] for p in parts] == ["inbox", "archive", "sent"]  # in the order they were read
    assert all(p[1] for p in parts)
    # each folder's row was last written by its own last batch, not rewritten by later ones
    assert len({p[2] for p in parts}) == len(FOLDERS)
    [(pages,)] = await fetch(
        pool, "SELECT pg_relation_size('crm.sync_cursors') / current_setting('block_size')::int"
    )
    assert pages == 1, f"{result.batches} batches grew the cursor table to {pages} pages"
    async with pool.connection() as conn:
        stored = await mail_repo.get_connection(conn, connection.id)
    assert stored is not None and stored.cursor is not None
    assert sorted(stored.cursor["folders"]) == sorted(FOLDERS)

    again = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(),
        source=FileSource(connection.source, page_size=2), batch_size=2,
    )  # fmt: skip
    assert (again.seen, again.stored) == (0, 0)  # resumed from the rows: nothing new


async def test_migration_0032__moves_whole_cursors_into_rows(empty_db_url: str) -> None:
    imap = {"folders": {"INBOX": {"uidvalidity": 7, "last_uid": 42}, "Sent": {"last_uid": 3}}}
    async with await psycopg.AsyncConnection.connect(empty_db_url, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_on timestamptz NOT NULL DEFAULT now())"
        )
        for migration in [m for m in migrate.available() if m.version < 32]:
            await conn.execute(migration.sql.encode())
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
        await conn.execute("INSERT INTO crm.users (id, email) OVERRIDING SYSTEM VALUE"
                           " VALUES (1, 'u@example.com')")  # fmt: skip
        await conn.execute(
            "INSERT INTO crm.connections (user_id, kind, source, cursor) VALUES"
            " (1, 'imap', 'u@example.com', %(imap)s::jsonb),"
            " (1, 'gmail', 'u@gmail.com', '{\"history_id\": \"99\"}'),"
            " (1, 'mbox', '/none', NULL)",
            {"imap": psycopg.types.json.Jsonb(imap)},
        )
        await migrate.upgrade(conn)
        rows = await (
            await conn.execute(
                "SELECT c.kind, s.folder, s.position FROM crm.sync_cursors s"
                " JOIN crm.connections c ON c.id = s.connection_id ORDER BY 1, 2"
            )
        ).fetchall()
    assert rows == [
        ("gmail", "", {"history_id": "99"}),
        ("imap", "INBOX", {"uidvalidity": 7, "last_uid": 42}),
        ("imap", "Sent", {"last_uid": 3}),
    ]
