"""Opening a contact page asks for the summary of a relationship that has none (issue 19)."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.jobs import priorities, summarize_relationship
from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}


async def summary_jobs(pool: AsyncConnectionPool) -> list[tuple[int, int]]:
    async with pool.connection() as conn:
        rows = await conn.execute(
            "SELECT (data->>'contact_id')::bigint, priority FROM queue.job WHERE name = %s",
            (summarize_relationship.QUEUE,),
        )
        return list(await rows.fetchall())


async def test_opening_a_page_without_a_summary_asks_for_one_once(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    linus, ada = seeded.contacts["linus"], seeded.contacts["ada"]
    await login(client, alice.account.email)
    page = (await client.get(f"/contacts/{linus}", headers=HTML)).text
    assert "A summary is being written" in page
    await client.get(f"/contacts/{linus}", headers=HTML)  # one job, however many views
    page = (await client.get(f"/contacts/{ada}", headers=HTML)).text  # summarised already
    assert "A summary is being written" not in page
    assert await summary_jobs(pool) == [(linus, priorities.ASKED)]
    async with pool.connection() as conn:
        viewed = await conn.execute("SELECT contact_id FROM crm.contact_views ORDER BY 1")
        assert sorted(r[0] for r in await viewed.fetchall()) == sorted([linus, ada])
