"""The counts kept per connection (migration 0046: `crm.connection_totals`,
`crm.connection_correspondents`, `crm.co_authored_messages`) equal the same counts made from
scratch after every kind of change to folders, links and automated flags, in either order,
and when extraction and a folder change race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from tests.integration.connection_counts import KEPT_PEOPLE, KEPT_TOTALS, assert_kept, rows

T0 = datetime(2024, 3, 1, tzinfo=UTC)


async def _one(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> int:
    row = await (await conn.execute(sql, params)).fetchone()
    return int(row[0])


class Mail:
    """Rows for one user, written the way sync and extraction write them."""

    def __init__(self, conn: Any, user_id: int) -> None:
        self.conn, self.user_id, self.n = conn, user_id, 0

    async def folders(self, *names: str) -> tuple[int, list[int]]:
        cid = await _one(
            self.conn,
            "INSERT INTO crm.connections (user_id, kind, source) VALUES (%s, 'mbox', %s)"
            " RETURNING id",
            (self.user_id, f"/mail/{self.user_id}/{names[0]}"),
        )
        ids = [
            await _one(
                self.conn,
                "INSERT INTO crm.folders (connection_id, name) VALUES (%s, %s) RETURNING id",
                (cid, name),
            )
            for name in names
        ]
        return cid, ids

    async def message(self) -> int:
        self.n += 1
        return await _one(
            self.conn,
            "INSERT INTO crm.messages (user_id, dedup_key) VALUES (%s, %s) RETURNING id",
            (self.user_id, f"k{self.n}"),
        )

    async def file(self, message: int, *folders: int) -> None:
        """Folder rows for `message`, one statement (a sync's batch)."""
        await self.conn.execute(
            "INSERT INTO crm.message_folders (folder_id, source_id, message_id)"
            " SELECT f, 's' || %s || '-' || f, %s FROM unnest(%s::bigint[]) f",
            (message, message, list(folders)),
        )

    async def link(self, message: int, links: dict[str, str], days: int | None = 0) -> None:
        """Extraction's links for `message`, one statement."""
        on = None if days is None else T0 + timedelta(days=days)
        await self.conn.execute(
            "INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on,"
            " visible) SELECT %s, a, r, %s, %s, true FROM unnest(%s::text[], %s::text[]) x(a, r)",
            (message, self.user_id, on, list(links), list(links.values())),
        )

    async def automated(self, message: int, on: bool = True) -> None:
        if on:
            await self.conn.execute(
                "INSERT INTO crm.message_automated (user_id, message_id, reason)"
                " VALUES (%s, %s, 'list')",
                (self.user_id, message),
            )
        else:
            await self.conn.execute(
                "DELETE FROM crm.message_automated WHERE user_id = %s AND message_id = %s",
                (self.user_id, message),
            )


async def _user(conn: Any, email: str) -> int:
    return await _one(conn, "INSERT INTO crm.users (email) VALUES (%s) RETURNING id", (email,))


async def test_counts__kept_equal_to_counted_through_every_change(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as conn:
        me = Mail(conn, await _user(conn, "me@example.com"))
        main, (inbox, archive) = await me.folders("INBOX", "Archive")
        other, (elsewhere,) = await me.folders("Other")

        # a sync's order: the message and its folders, then extraction's links
        m1 = await me.message()
        await me.file(m1, inbox, archive)  # two folders of one connection: counted once
        await me.link(m1, {"ann@a.example": "received_from", "bob@b.example": "cc"}, days=1)
        m2 = await me.message()
        await me.file(m2, inbox)
        await me.link(m2, {"ann@a.example": "received_from"}, days=4)
        await me.automated(m2)
        m3 = await me.message()
        await me.file(m3, archive)
        await me.link(m3, {"cy@c.example": "sent_to"}, days=None)
        await assert_kept(conn)

        # found again later in another connection, already extracted and automated
        await me.file(m2, elsewhere)
        await assert_kept(conn)
        # a second copy in a folder that already holds it changes nothing
        await conn.execute(
            "INSERT INTO crm.message_folders (folder_id, source_id, message_id)"
            " VALUES (%s, 'copy', %s)",
            (inbox, m1),
        )
        await assert_kept(conn)

        # no longer automated; automated again
        await me.automated(m2, on=False)
        await assert_kept(conn)
        await me.automated(m2)
        await assert_kept(conn)

        # deleted on the server from one folder, then from the other (it leaves the connection)
        await conn.execute(
            "DELETE FROM crm.message_folders WHERE folder_id = %s AND message_id = %s",
            (inbox, m1),
        )
        await assert_kept(conn)
        await conn.execute(
            "DELETE FROM crm.message_folders WHERE folder_id = %s AND message_id = %s",
            (archive, m1),
        )
        await assert_kept(conn)

        # ann's latest message (day 4) leaves: her latest is re-read (day 1 went with m1: none)
        await conn.execute("DELETE FROM crm.message_folders WHERE message_id = %s", (m2,))
        await assert_kept(conn)
        await me.file(m2, inbox)
        await assert_kept(conn)

        # moved between folders of one connection, and into another connection
        await conn.execute(
            "UPDATE crm.message_folders SET folder_id = %s WHERE message_id = %s",
            (archive, m2),
        )
        await assert_kept(conn)
        await conn.execute(
            "UPDATE crm.message_folders SET folder_id = %s WHERE message_id = %s",
            (elsewhere, m3),
        )
        await assert_kept(conn)

        # re-extraction: links removed and made again
        await conn.execute("DELETE FROM crm.contact_links WHERE message_id = %s", (m2,))
        await assert_kept(conn)
        await me.link(m2, {"ann@a.example": "received_from", "dee@d.example": "sent_to"}, 2)
        await assert_kept(conn)

        # a From that lists two addresses, then one of its links removed
        await me.link(m3, {"ann@a.example": "received_from", "ann@home.example": "received_from"})
        await assert_kept(conn)
        await conn.execute(
            "DELETE FROM crm.contact_links WHERE message_id = %s AND address = 'ann@home.example'",
            (m3,),
        )
        await assert_kept(conn)

        # links before any folder (a message not filed yet), then filed in both connections
        m4 = await me.message()
        await me.link(m4, {"eve@e.example": "received_from"}, days=9)
        await me.file(m4, inbox, elsewhere)
        await assert_kept(conn)

        # deleted on the server everywhere, then deleted as no folder holds it (a sync's
        # end), with its links and automated flag
        await me.automated(m4)
        await conn.execute("DELETE FROM crm.message_folders WHERE message_id = %s", (m4,))
        await assert_kept(conn)
        await conn.execute("DELETE FROM crm.messages WHERE id = %s", (m4,))
        await assert_kept(conn)

        # a sync's end folds the rows of changes into one per connection, same sums
        await conn.execute("UPDATE crm.connections SET status = 'ok' WHERE id = %s", (main,))
        before = await rows(conn, KEPT_TOTALS)
        await conn.execute("SELECT crm.compact_connection_totals(%s, %s)", (me.user_id, main))
        assert (
            await _one(
                conn, "SELECT count(*) FROM crm.connection_totals WHERE connection_id = %s", (main,)
            )
            == 1
        )
        assert await rows(conn, KEPT_TOTALS) == before

        # a connection deleted takes its counts with it
        await conn.execute("DELETE FROM crm.connections WHERE id = %s", (other,))
        await assert_kept(conn)
        assert (
            await _one(
                conn,
                "SELECT count(*) FROM crm.connection_correspondents WHERE connection_id = %s",
                (other,),
            )
            == 0
        )


async def test_counts__a_folder_change_waits_for_extraction_in_flight(
    pool: AsyncConnectionPool, db_url: str
) -> None:
    """Extraction links a message (uncommitted, holding the user's extraction lock shared)
    while a sync files that message in a second connection: the sync waits for the lock, so
    the links are counted in both connections exactly once."""
    async with pool.connection() as conn:
        me = Mail(conn, await _user(conn, "me@example.com"))
        _, (inbox,) = await me.folders("INBOX")
        _, (elsewhere,) = await me.folders("Other")
        message = await me.message()
        await me.file(message, inbox)

    async with await psycopg.AsyncConnection.connect(db_url) as extraction, \
            await psycopg.AsyncConnection.connect(db_url) as sync:  # fmt: skip
        await extraction.execute(
            "SELECT pg_advisory_xact_lock_shared(5004, %s::integer)", (me.user_id,)
        )
        await Mail(extraction, me.user_id).link(message, {"ann@a.example": "received_from"})

        sync_pid = sync.info.backend_pid
        filing = asyncio.create_task(Mail(sync, me.user_id).file(message, elsewhere))
        async with pool.connection() as watcher:
            for _ in range(500):  # the sync's folder change waits on the advisory lock
                waiting = await _one(
                    watcher,
                    "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted"
                    " AND locktype = 'advisory'",
                    (sync_pid,),
                )
                if waiting or filing.done():
                    break
                await asyncio.sleep(0.02)
        assert not filing.done(), "the folder change did not wait for the extraction"
        await extraction.commit()
        await filing
        await sync.commit()

    async with pool.connection() as conn:
        await assert_kept(conn)
        people = await rows(conn, KEPT_PEOPLE)
        assert [(r[2], r[3]) for r in people] == [("ann@a.example", 1), ("ann@a.example", 1)]
