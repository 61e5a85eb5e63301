"""The counts kept per connection (migration 0046) against the same counts made from scratch:
`assert_counts_kept` after any change a test makes to folders, links or automated flags."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

KEPT_TOTALS = """
SELECT connection_id, sum(messages), sum(automated) FROM crm.connection_totals
GROUP BY connection_id HAVING sum(messages) <> 0 OR sum(automated) <> 0 ORDER BY 1
"""
FRESH_TOTALS = """
SELECT f.connection_id, count(DISTINCT mf.message_id), count(DISTINCT a.message_id)
FROM crm.message_folders mf
JOIN crm.folders f ON f.id = mf.folder_id
JOIN crm.connections cn ON cn.id = f.connection_id
LEFT JOIN crm.message_automated a ON a.user_id = cn.user_id AND a.message_id = mf.message_id
GROUP BY f.connection_id ORDER BY 1
"""
KEPT_PEOPLE = """
SELECT user_id, connection_id, address, received, sent, links, last_received_on
FROM crm.connection_correspondents ORDER BY 1, 2, 3
"""
FRESH_PEOPLE = """
SELECT l.user_id, m.connection_id, l.address,
       count(*) FILTER (WHERE l.role = 'received_from'), count(*) FILTER (WHERE l.role = 'sent_to'),
       count(*), max(l.occurred_on) FILTER (WHERE l.role = 'received_from')
FROM (SELECT DISTINCT f.connection_id, mf.message_id
      FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id) m
JOIN crm.contact_links l ON l.message_id = m.message_id
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""

KEPT_CO_AUTHORED = "SELECT user_id, message_id FROM crm.co_authored_messages ORDER BY 1, 2"
FRESH_CO_AUTHORED = """
SELECT user_id, message_id FROM crm.contact_links WHERE role = 'received_from'
GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2
"""


async def rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await (await conn.execute(sql)).fetchall()]


async def assert_kept(conn: Any) -> None:
    """Every kept count equals the count made from scratch (all users, all connections)."""
    assert await rows(conn, KEPT_TOTALS) == await rows(conn, FRESH_TOTALS)
    assert await rows(conn, KEPT_PEOPLE) == await rows(conn, FRESH_PEOPLE)
    assert await rows(conn, KEPT_CO_AUTHORED) == await rows(conn, FRESH_CO_AUTHORED)


async def assert_counts_kept(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        await assert_kept(conn)
