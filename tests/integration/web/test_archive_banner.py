"""A mailbox whose mail ended long ago says its scores are as of then (issue 19)."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}
BANNER = "This archive ends in"


async def test_an_archive_says_when_it_ends_on_the_contact_pages(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    await login(client, alice.account.email)

    async def date_mail(date: str) -> None:
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE crm.messages SET date = %s::timestamptz WHERE user_id = %s",
                (date, alice.account.id),
            )

    await date_mail("now")  # live mail: no banner
    assert BANNER not in (await client.get("/contacts", headers=HTML)).text
    await date_mail("2002-03-14 09:00+00")
    for path in ("/contacts", f"/contacts/{ada}"):
        page = (await client.get(path, headers=HTML)).text
        assert f"{BANNER} March 2002; scores are as of then." in page
