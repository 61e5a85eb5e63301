"""`/api/groups`: a user's distribution lists with the people seen writing to them; a person's
contact id or a missing one answers 404; a group is never in the contacts list (any sort, search,
count, page) and is on /groups."""

from __future__ import annotations

import json

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}


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


async def test_groups__never_among_people_in_any_sort_search_or_count(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]  # scored: the strongest-first list reads its relationship
    everyone = await client.get("/api/contacts?limit=100", headers=alice.auth)
    people = everyone.json()["total"]
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.contacts SET kind = 'group', kind_reason = 'fanout' WHERE id = %s", (ada,)
        )
        row = await conn.execute(  # and one never scored, found by name or recency
            "INSERT INTO crm.contacts (user_id, primary_address, name, created, kind, kind_reason,"
            " last_interaction_on) VALUES (%s, 'team-lovelace@example.org', 'Team Lovelace',"
            " true, 'group', 'display_name', now()) RETURNING id",
            (alice.account.id,),
        )
        (team,) = await row.fetchone() or (None,)
    groups = {ada, team}
    for sort in ("strength", "last_interaction", "name", "tag"):
        for q in (None, "lovelace", "example"):
            params = {"sort": sort, **({"q": q} if q else {})}
            for limit in (1, 100):  # a full first page is counted by contact_count.sql
                response = await client.get(
                    "/api/contacts", params={**params, "limit": limit}, headers=alice.auth
                )
                assert response.status_code == 200, response.text
                body = response.json()
                assert not groups & {c["id"] for c in body["items"]}, (sort, q, limit)
                if q is None:
                    assert body["total"] == people - 1, (sort, limit)

    await login(client, "alice@example.com")
    for url in ("/contacts", "/contacts?sort=name", "/contacts?q=lovelace"):
        page = await client.get(url, headers=HTML)
        assert page.status_code == 200, page.text
        assert "Lovelace" not in page.text, url
    shown = await client.get("/groups", headers=HTML)
    assert shown.status_code == 200, shown.text
    assert "Ada Lovelace" in shown.text and "Team Lovelace" in shown.text


async def test_named_groups__on_the_message_in_the_api_and_on_groups(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    notes = seeded.messages["notes"]
    group = {"header": "to", "name": "Analytical Society", "members": ["ada@x.org", "cb@y.org"]}
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.messages SET extra_headers = coalesce(extra_headers, '{}')"
            " || jsonb_build_object('address_groups', jsonb_build_array(%s::jsonb)) WHERE id = %s",
            (json.dumps(group), notes),
        )
    message = await client.get(f"/api/messages/{notes}", headers=alice.auth)
    assert message.status_code == 200, message.text
    assert message.json()["address_groups"] == [group]
    named = await client.get("/api/groups/named", headers=alice.auth)
    assert named.status_code == 200, named.text
    [found] = named.json()
    assert (found["name"], found["messages"], found["members"]) == (
        "Analytical Society",
        1,
        ["ada@x.org", "cb@y.org"],
    )
    await login(client, "alice@example.com")
    page = await client.get(f"/messages/{notes}", headers=HTML)
    assert "To group" in page.text and "Analytical Society" in page.text
    shown = await client.get("/groups", headers=HTML)
    assert "Groups named in headers" in shown.text and "cb@y.org" in shown.text
