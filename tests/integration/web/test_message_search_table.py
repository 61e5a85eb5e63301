"""The narrow search table (0031_message_search_table.sql): its rows follow every write to
crm.messages, and a phrase's word-pair pre-filter finds exactly what the vector alone finds."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User
from tests.integration.web.contact_seed import NOW

# Each row's vector as 0025 defined it, beside the one kept in the search table.
IN_STEP = """
SELECT m.id, s.date IS NOT DISTINCT FROM m.date AND s.has_attachment = m.has_attachment
             AND s.vector = crm.message_vector(m.subject, m.from_name, m.from_address,
                                               m.recipients, m.body_text)
             AND s.pairs = crm.message_pairs(s.vector) AS same
FROM crm.messages m LEFT JOIN crm.message_search s ON s.message_id = m.id
WHERE m.user_id = %s ORDER BY m.id
"""
BODIES = [
    "the gas price rose again",
    "price gas is not the phrase",
    "gas and price apart",
    "Gas, price: punctuation between",
    "gas gas price price",
    "no words of interest",
    "it's here: o'neil wrote the gas price report",
]


async def _insert(pool: AsyncConnectionPool, user_id: int) -> list[int]:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text, from_address,"
                " date, has_attachment)"
                " SELECT %s, 'fp:' || n, 'note ' || n, b, 'a@x.test', %s - n * interval '1 day',"
                " n = 1"
                " FROM unnest(%s::text[]) WITH ORDINALITY AS t(b, n) RETURNING id",
                (user_id, NOW, BODIES),
            )
        ).fetchall()
    return [r[0] for r in rows]


async def _in_step(pool: AsyncConnectionPool, user_id: int) -> list[bool]:
    async with pool.connection() as conn:
        return [r[1] for r in await (await conn.execute(IN_STEP, (user_id,))).fetchall()]


async def test_search_rows__follow_inserts_copies_updates_and_deletes(
    alice: User, pool: AsyncConnectionPool
) -> None:
    uid = alice.account.id
    ids = await _insert(pool, uid)
    async with pool.connection() as conn:
        async with conn.cursor().copy(
            "COPY crm.messages (user_id, dedup_key, subject, body_text) FROM STDIN"
        ) as copy:
            await copy.write_row((uid, "fp:copied", "Copied", "a copied gas price"))
    assert await _in_step(pool, uid) == [True] * (len(BODIES) + 1)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.messages SET subject = 'zeppelin', problems = '{x}' WHERE id = %s",
            (ids[0],),
        )
        await conn.execute("UPDATE crm.messages SET date = NULL WHERE id = %s", (ids[1],))
        await conn.execute("UPDATE crm.messages SET problems = '{y}' WHERE user_id = %s", (uid,))
        await conn.execute("DELETE FROM crm.messages WHERE id = %s", (ids[2],))
        left = await (
            await conn.execute("SELECT count(*) FROM crm.message_search WHERE user_id = %s", (uid,))
        ).fetchone()
    assert left == (len(BODIES),)
    assert await _in_step(pool, uid) == [True] * len(BODIES)


async def _ids(client: httpx.AsyncClient, user: User, q: str) -> list[int]:
    response = await client.get("/api/messages", params={"q": q, "sort": "date"}, headers=user.auth)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


async def test_phrase__the_pair_pre_filter_finds_what_the_vector_finds(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    uid = alice.account.id
    ids = await _insert(pool, uid)
    async with pool.connection() as conn:
        await conn.execute(  # a phrase across the subject's end and the people's start
            "UPDATE crm.messages SET subject = 'ends with gas', from_name = 'Price Waterhouse'"
            " WHERE id = %s",
            (ids[5],),
        )
    queries = ['"gas price"', '"gas price" -rose', '"gas price" or apart', '"price gas"',
               '"gas gas price"', "\"o'neil wrote\"", '"gas price report"', '"with gas price"',
               'gas price', '"here o neil"']  # fmt: skip
    for q in queries:
        async with pool.connection() as conn:
            expected = [
                r[0]
                for r in await (
                    await conn.execute(
                        "SELECT m.id FROM crm.messages m WHERE m.user_id = %s"
                        " AND crm.message_vector(m.subject, m.from_name, m.from_address,"
                        "  m.recipients, m.body_text) @@ websearch_to_tsquery('simple', %s)"
                        " ORDER BY m.date DESC NULLS LAST, m.id DESC",
                        (uid, q),
                    )
                ).fetchall()
            ]
        assert await _ids(client, alice, q) == expected, q
    assert await _ids(client, alice, '"gas price"') == [ids[0], ids[3], ids[4], ids[5], ids[6]]
    ranked = await client.get("/api/messages", params={"q": '"gas price"'}, headers=alice.auth)
    assert ranked.json()["total"] == 5
    async with pool.connection() as conn:  # the pre-filter is in effect: without its pairs...
        await conn.execute("UPDATE crm.message_search SET pairs = '{}' WHERE message_id = %s",
                           (ids[0],))  # fmt: skip
    assert ids[0] not in await _ids(client, alice, '"gas price"')  # ...no phrase finds it
    assert ids[0] in await _ids(client, alice, "gas price")
