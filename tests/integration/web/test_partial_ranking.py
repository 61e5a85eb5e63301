"""During a first import the contacts page labels its ranking as partial (issue 19)."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}
LABEL = "messages so far; import still running"


async def test_the_contacts_page_labels_a_ranking_made_while_an_import_runs(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    user_id = alice.account.id
    await seed_crm(pool, user_id)
    await login(client, alice.account.email)
    async with pool.connection() as conn:
        [(stored,)] = await (
            await conn.execute("SELECT count(*) FROM crm.messages WHERE user_id = %s", (user_id,))
        ).fetchall()
        await conn.execute(
            "INSERT INTO crm.connections (user_id, kind, source, status, remaining_estimate)"
            " VALUES (%s, 'mbox', '/big.mbox', 'syncing', 311000)",
            (user_id,),
        )
    assert stored > 0

    page = (await client.get("/contacts", headers=HTML)).text

    assert f"Ranking from {stored:,} of ~{stored + 311_000:,} {LABEL}." in page
    assert "data-partial-ranking" in page
    async with pool.connection() as conn:  # the import ends
        await conn.execute(
            "UPDATE crm.connections SET status = 'ok', last_synced_on = now(),"
            " remaining_estimate = 0 WHERE source = '/big.mbox'"
        )
    assert LABEL not in (await client.get("/contacts", headers=HTML)).text


async def test_a_later_sync_of_an_imported_mailbox_is_no_partial_ranking(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    await login(client, alice.account.email)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.connections (user_id, kind, source, status, last_synced_on)"
            " VALUES (%s, 'mbox', '/box.mbox', 'syncing', now() - interval '1 day')",
            (alice.account.id,),
        )
    assert LABEL not in (await client.get("/contacts", headers=HTML)).text
