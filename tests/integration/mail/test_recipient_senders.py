"""The counts kept per To/Cc address and sender (migration 0056, `crm.recipient_senders`, read by
the groups pages) equal the same counts made from scratch after mail is stored (several
batches, an address in both To and Cc, no From, Bcc and From rows), deleted, and its owner
deleted; and the groups read from them what they read from the mail."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.groups import repo as groups_repo

KEPT = (
    "SELECT user_id, recipient, sender, messages, name FROM crm.recipient_senders ORDER BY 1, 2, 3"
)
FRESH = """
SELECT m.user_id, p.address, coalesce(lower(m.from_address), ''), count(*),
       coalesce(max(m.from_name), '')
FROM (SELECT DISTINCT message_id, address FROM crm.message_participants
      WHERE role IN ('to', 'cc')) p
JOIN crm.messages m ON m.id = p.message_id
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
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


async def _store(
    pool: AsyncConnectionPool,
    user_id: int,
    mail: list[tuple[str | None, str, list[tuple[str, str]]]],
) -> list[int]:
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
    await _store(pool, bob, [("carl@acme.com", "C", [("to", "team@acme.com")])])
    later = await _store(
        pool, ann, [("dee@acme.com", "Dee", [("to", "team@acme.com"), ("to", "ops@acme.com")])]
    )
    kept = await assert_kept(pool)
    assert (ann, "team@acme.com", "carl@acme.com", 2, "Carl Diaz") in kept  # To and Cc: once
    assert (ann, "team@acme.com", "", 1, "") in kept

    async with pool.connection() as conn:  # mail deleted (a sync's deletion), in one statement
        await conn.execute("DELETE FROM crm.messages WHERE id = ANY(%s)", ([first[1], *later],))
    kept = await assert_kept(pool)
    assert not [row for row in kept if row[1] == "ops@acme.com"]  # gone with its only message

    async with pool.connection() as conn:  # the owner deleted: their mail with them
        await conn.execute("DELETE FROM crm.users WHERE id = %s", (ann,))
    assert [row[0] for row in await assert_kept(pool)] == [bob]


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
    await _store(
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
    await _store(pool, bob, [("eve@acme.com", "Eve", team)])
    async with pool.connection() as conn:
        [found] = await groups_repo.list_groups(conn, ann)
        members = await groups_repo.members(conn, ann, group)
    assert (found.id, found.messages, found.members) == (group, 5, 2)
    assert [(m.address, m.name, m.messages) for m in members] == [
        ("carl@acme.com", "Carl", 2),
        ("dee@acme.com", "Dee", 1),
    ]
