"""`/api/groups`: a user's distribution lists with the people seen writing to them; a person's
contact id or a missing one answers 404; a group is left out of the strongest-first list."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User
from tests.integration.web.contact_seed import seed_crm


async def test_groups__listed_with_members_and_kept_out_of_the_strongest_first_list(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    before = await client.get("/api/contacts?sort=strength", headers=alice.auth)
    assert ada in {c["id"] for c in before.json()["items"]}
    async with pool.connection() as conn:  # Ada's address turns out to be a list (say)
        await conn.execute(
            "UPDATE crm.contacts SET kind = 'group', kind_reason = 'fanout' WHERE id = %s", (ada,)
        )
    strongest = await client.get("/api/contacts?sort=strength", headers=alice.auth)
    assert strongest.status_code == 200, strongest.text
    assert ada not in {c["id"] for c in strongest.json()["items"]}

    listed = await client.get("/api/groups", headers=alice.auth)
    assert listed.status_code == 200, listed.text
    [group] = listed.json()
    assert (group["id"], group["reason"]) == (ada, "fanout")
    detail = await client.get(f"/api/groups/{ada}", headers=alice.auth)
    assert detail.status_code == 200, detail.text
    assert "without naming you" in detail.json()["why"]
    person = seeded.contacts["grace"]
    for missing in (person, 999_999):
        response = await client.get(f"/api/groups/{missing}", headers=alice.auth)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert (await client.get("/api/groups/0", headers=alice.auth)).status_code == 422
