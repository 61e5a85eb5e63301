"""The counts kept per To/Cc address and sender (migration 0056, `crm.recipient_senders`, read by
the groups pages; since 0057 of the mail extraction has processed) equal the same counts made
from scratch after mail is stored (several batches, an address in both To and Cc, no From, Bcc
and From rows), extracted, deleted (extracted or not, and while being extracted), and its owner
deleted; 0057 converts the counts 0056 kept; and the groups read from them what they read from
the mail."""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.groups import repo as groups_repo
from fluffymail.db import migrate
from tests.integration.mail.conftest import wait_blocked

KEPT = (
    "SELECT user_id, recipient, sender, messages, name FROM crm.recipient_senders ORDER BY 1, 2, 3"
)
COUNTED = """
SELECT m.user_id, p.address, coalesce(lower(m.from_address), ''), count(*),
       coalesce(max(m.from_name), '')
FROM (SELECT DISTINCT message_id, address FROM crm.message_participants
      WHERE role IN ('to', 'cc')) p
JOIN crm.messages m ON m.id = p.message_id
WHERE {which}
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
# the mail extraction has processed (0057)
FRESH = COUNTED.format(
    which="NOT EXISTS (SELECT 1 FROM crm.message_pending q WHERE q.message_id = m.id)"
)
# all the mail stored, extracted or not (0056)
STORED = COUNTED.format(which="true")
Mail = list[tuple[str | None, str, list[tuple[str, str]]]]
# the foreign keys 0057 replaced with triggers, as they were
BEFORE_0057_KEYS = """
DROP TRIGGER threads_delete_keys ON crm.threads;
DROP FUNCTION crm.delete_thread_keys();
ALTER TABLE crm.thread_keys ADD CONSTRAINT thread_keys_thread_id_fkey
    FOREIGN KEY (thread_id) REFERENCES crm.threads (id) ON DELETE CASCADE;
DROP TRIGGER folders_delete_messages ON crm.folders;
DROP FUNCTION crm.delete_folder_messages();
ALTER TABLE crm.message_folders ADD CONSTRAINT message_folders_folder_id_fkey
    FOREIGN KEY (folder_id) REFERENCES crm.folders (id) ON DELETE CASCADE;
DROP TRIGGER messages_delete_folders ON crm.messages;
DROP FUNCTION crm.delete_message_folders();
ALTER TABLE crm.message_folders ADD CONSTRAINT message_folders_message_id_fkey
    FOREIGN KEY (message_id) REFERENCES crm.messages (id) ON DELETE CASCADE;
"""


async def _rows(pool: AsyncConnectionPool, sql: str) -> list[tuple[Any, ...]]:
    async with pool.connection() as conn:
        return await (await conn.execute(sql)).fetchall()


async def assert_kept(pool: AsyncConnectionPool) -> list[tuple[Any, ...]]:
    kept = await _rows(pool, KEPT)
    assert kept == await _rows(pool, FRESH)
    return kept


async def _user(pool: AsyncConnectionPool, email: str) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("INSERT INTO crm.users (email) VALUES (%s) RETURNING id", (email,))
        return (await cur.fetchone())[0]  # type: ignore[index]


async def _store(pool: AsyncConnectionPool, user_id: int, mail: Mail) -> list[int]:
    """One batch as the store writes it: the messages, then (a second statement) all their
    participants. `mail`: (From address, From name, [(role, address), ...]) per message."""
    async with pool.connection() as conn, conn.transaction():
        ids = []
        for sender, name, _ in mail:
            cur = await conn.execute(
                "INSERT INTO crm.messages (user_id, dedup_key, from_address, from_name)"
                " VALUES (%s, gen_random_uuid()::text, %s, %s) RETURNING id",
                (user_id, sender, name),
            )
            ids.append((await cur.fetchone())[0])  # type: ignore[index]
        rows = [
            (message_id, role, position, address)
            for message_id, (sender, _, recipients) in zip(ids, mail, strict=True)
            for position, (role, address) in enumerate(
                [("from", sender), *recipients] if sender else recipients
            )
        ]
        await conn.execute(
            "INSERT INTO crm.message_participants (message_id, role, position, address)"
            " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::text[])",
            tuple(map(list, zip(*rows, strict=True))),
        )
    return ids


async def _extract(pool: AsyncConnectionPool, message_ids: list[int]) -> None:
    """What an extract-contacts batch does to the messages (one transaction)."""
    async with pool.connection() as conn, conn.transaction():
        await contacts_service.extract_messages(conn, message_ids, now=SystemClock().now())


async def _store_and_extract(pool: AsyncConnectionPool, user_id: int, mail: Mail) -> list[int]:
    ids = await _store(pool, user_id, mail)
    await _extract(pool, ids)
    return ids


async def test_recipient_senders__kept_equal_to_counted_through_stores_and_deletions(
    pool: AsyncConnectionPool,
) -> None:
    ann, bob = await _user(pool, "ann@example.com"), await _user(pool, "bob@example.com")
    first = await _store(
        pool,
        ann,
        [
            ("Carl@Acme.com", "Carl", [("to", "team@acme.com"), ("cc", "ann@example.com")]),
            ("carl@acme.com", "Carl Diaz", [("to", "team@acme.com"), ("cc", "team@acme.com")]),
            (None, "", [("to", "team@acme.com")]),  # no From: counted, nobody wrote it
            ("dee@acme.com", "Dee", [("bcc", "team@acme.com"), ("to", "ann@example.com")]),
        ],
    )
    assert await assert_kept(pool) == []  # stored, not extracted yet: not counted yet
    await _extract(pool, first)
    await _store_and_extract(pool, bob, [("carl@acme.com", "C", [("to", "team@acme.com")])])
    later = await _store(
        pool, ann, [("dee@acme.com", "Dee", [("to", "team@acme.com"), ("to", "ops@acme.com")])]
    )
    kept = await assert_kept(pool)
    assert (ann, "team@acme.com", "carl@acme.com", 2, "Carl Diaz") in kept  # To and Cc: once
    assert (ann, "team@acme.com", "", 1, "") in kept
    assert not [row for row in kept if row[1] == "ops@acme.com"]  # its message is not extracted
    await _extract(pool, later)
    await _extract(pool, [*first, *later])  # a re-run counts nothing twice
    kept = await assert_kept(pool)
    assert (ann, "ops@acme.com", "dee@acme.com", 1, "Dee") in kept

    pending = await _store(pool, ann, [("carl@acme.com", "Carl Z", [("to", "team@acme.com")])])
    async with pool.connection() as conn:  # mail deleted (a sync's deletion), in one statement
        await conn.execute(
            "DELETE FROM crm.messages WHERE id = ANY(%s)", ([first[1], *later, *pending],)
        )
    kept = await assert_kept(pool)  # the unextracted one was not counted out
    assert not [row for row in kept if row[1] == "ops@acme.com"]  # gone with its only message
    assert (ann, "team@acme.com", "carl@acme.com", 1, "Carl") in kept  # the name left

    await _store(pool, ann, [("eve@acme.com", "Eve", [("to", "team@acme.com")])])
    async with pool.connection() as conn:  # the owner deleted: their mail with them
        await conn.execute("DELETE FROM crm.users WHERE id = %s", (ann,))
    assert [row[0] for row in await assert_kept(pool)] == [bob]


async def test_recipient_senders__a_message_deleted_while_extracted_counts_once_or_never(
    pool: AsyncConnectionPool,
) -> None:
    """Extraction and deletion of one message at once, either first: the second waits for the
    first and sees what it did (counted in then out, or neither)."""
    ann = await _user(pool, "ann@example.com")
    await _store_and_extract(pool, ann, [("carl@acme.com", "Carl", [("to", "team@acme.com")])])
    mail: Mail = [("carl@acme.com", "Carl Z", [("to", "team@acme.com")])]
    delete = "DELETE FROM crm.messages WHERE id = %s"

    [extracted_first] = await _store(pool, ann, mail)
    async with pool.connection() as other:
        async with pool.connection() as conn, conn.transaction():
            await contacts_repo.insert_links(conn, ann, [], [(extracted_first, None)])
            deletion = asyncio.create_task(other.execute(delete, (extracted_first,)))
            await wait_blocked(pool, other.info.backend_pid, deletion)
        await deletion
    assert await assert_kept(pool) == [(ann, "team@acme.com", "carl@acme.com", 1, "Carl")]

    [deleted_first] = await _store(pool, ann, mail)
    async with pool.connection() as other:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(delete, (deleted_first,))
            extraction = asyncio.create_task(
                contacts_repo.insert_links(other, ann, [], [(deleted_first, None)])
            )
            await wait_blocked(pool, other.info.backend_pid, extraction)
        await extraction
    assert await assert_kept(pool) == [(ann, "team@acme.com", "carl@acme.com", 1, "Carl")]


def _counting_trigger_0056() -> str:
    """The participants' counting trigger as migration 0056 created it (0057 drops it)."""
    path = "migrations/0056_web_pages_at_scale.sql"
    text = resources.files("fluffymail.db").joinpath(path).read_text("utf-8")
    start = text.index("CREATE FUNCTION crm.message_participants_added()")
    return text[start : text.index("-- A message's participants go with it (0012).")]


async def test_migration_0057__counts_only_the_extracted_mail(pool: AsyncConnectionPool) -> None:
    """Before 0057 every stored message was counted: the upgrade counts out those still
    waiting for extraction (and the names they gave), which extraction then counts in."""
    ann = await _user(pool, "ann@example.com")
    await _store_and_extract(
        pool,
        ann,
        [
            ("carl@acme.com", "Carl", [("to", "team@acme.com"), ("cc", "ops@acme.com")]),
            (None, "", [("to", "team@acme.com")]),
        ],
    )
    waiting = await _store(
        pool,
        ann,
        [
            ("carl@acme.com", "Carl Zed", [("to", "team@acme.com")]),  # the greatest name
            ("dee@acme.com", "Dee", [("to", "team@acme.com"), ("to", "ops@acme.com")]),
        ],
    )
    async with pool.connection() as conn:  # the database before 0057: all the mail counted
        await conn.execute(_counting_trigger_0056().encode())
        await conn.execute(BEFORE_0057_KEYS.encode())
        await conn.execute("TRUNCATE crm.recipient_senders")
        await conn.execute(f"INSERT INTO crm.recipient_senders {STORED}".encode())
        await conn.execute("DELETE FROM schema_migrations WHERE version = 57")
        assert [m.version for m in await migrate.upgrade(conn)] == [57]

    assert await assert_kept(pool) == [
        (ann, "ops@acme.com", "carl@acme.com", 1, "Carl"),
        (ann, "team@acme.com", "", 1, ""),
        (ann, "team@acme.com", "carl@acme.com", 1, "Carl"),
    ]
    await _extract(pool, waiting)
    assert await assert_kept(pool) == await _rows(pool, STORED)


async def test_groups__messages_and_members_from_the_kept_counts(
    pool: AsyncConnectionPool,
) -> None:
    """A group's messages and the people seen writing to it: the user (and aliases) and mail
    without a From are no members; another user's mail to the same address is not counted."""
    ann, bob = await _user(pool, "ann@example.com"), await _user(pool, "bob@example.com")
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.user_aliases (user_id, address, source) VALUES (%s, %s, 'user')",
            (ann, "ann@work.example"),
        )
        cur = await conn.execute(
            "INSERT INTO crm.contacts (user_id, primary_address, name, created, kind,"
            " kind_reason) VALUES (%s, 'team@acme.com', 'Team', true, 'group', 'dl_address')"
            " RETURNING id",
            (ann,),
        )
        group = (await cur.fetchone())[0]  # type: ignore[index]
        await conn.execute(
            "INSERT INTO crm.contact_addresses (user_id, contact_id, address)"
            " VALUES (%s, %s, 'team@acme.com')",
            (ann, group),
        )
    team = [("to", "team@acme.com")]
    await _store_and_extract(
        pool,
        ann,
        [
            ("carl@acme.com", "Carl", team),
            ("carl@acme.com", "Carl", [("cc", "team@acme.com")]),
            ("dee@acme.com", "Dee", team),
            ("ann@work.example", "Ann", team),  # the user: a message, no member
            (None, "", team),
        ],
    )
    await _store_and_extract(pool, bob, [("eve@acme.com", "Eve", team)])
    async with pool.connection() as conn:
        [found] = await groups_repo.list_groups(conn, ann)
        members = await groups_repo.members(conn, ann, group)
    assert (found.id, found.messages, found.members) == (group, 5, 2)
    assert [(m.address, m.name, m.messages) for m in members] == [
        ("carl@acme.com", "Carl", 2),
        ("dee@acme.com", "Dee", 1),
    ]
