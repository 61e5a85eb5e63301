"""The contact page's "How you know them": met directly vs introduced, and warm introductions
offered only for people the user does not already know well."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.jobs import analyze_relationships
from fluffymail.queue import JobQueue
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}


async def test_an_introduction_by_the_user_reads_as_met_directly(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.introductions (user_id, contact_id, introducer) VALUES (%s, %s, %s)",
            (alice.account.id, seeded.contacts["ada"], alice.account.email),
        )
    ada = (await client.get(f"/api/contacts/{seeded.contacts['ada']}", headers=alice.auth)).json()
    grace = (
        await client.get(f"/api/contacts/{seeded.contacts['grace']}", headers=alice.auth)
    ).json()
    assert ada["introduction"]["is_self"] is True
    assert grace["introduction"]["is_self"] is False
    await login(client, alice.account.email)
    page = (await client.get(f"/contacts/{seeded.contacts['ada']}", headers=HTML)).text
    assert "You met directly" in page and "Introduced by" not in page
    page = (await client.get(f"/contacts/{seeded.contacts['grace']}", headers=HTML)).text
    assert "Introduced by" in page


async def test_merging_from_the_page_rescores_the_user(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    await login(client, alice.account.email)
    csrf = session_csrf((await client.get("/contacts", headers=HTML)).text)
    merged = await client.post(
        f"/contacts/{ada}/merge",
        headers=HTML,
        data={"other_contact_id": str(linus), "csrf_token": csrf},
    )
    assert merged.status_code == 303
    queued = await jobs.find_jobs(name=analyze_relationships.QUEUE)
    assert [j.data["user_id"] for j in queued] == [alice.account.id]
