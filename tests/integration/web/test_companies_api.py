"""Companies over the API: the list (strongest relationship first, search, pages) and one
company with its people ranked and a roll-up; the company page."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import seed_crm


async def test_list__strongest_first_with_people_counts(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    body = (await client.get("/api/companies", headers=alice.auth)).json()
    assert [(c["name"], c["people"], c["best_score"]) for c in body["items"]] == [
        ("Acme Corp", 2, 85.4),
        ("Globex", 1, 62.0),
    ]  # hidden and suppressed people not counted
    assert body["total"] == 2 and body["next_offset"] is None
    found = (await client.get("/api/companies?q=globex.ex", headers=alice.auth)).json()
    assert [c["name"] for c in found["items"]] == ["Globex"]
    page = (await client.get("/api/companies?limit=1&offset=1", headers=alice.auth)).json()
    assert [c["name"] for c in page["items"]] == ["Globex"] and page["total"] == 2
    past = (await client.get("/api/companies?offset=5", headers=alice.auth)).json()
    assert past["items"] == [] and past["total"] == 2
    assert (await client.get("/api/companies?limit=0", headers=alice.auth)).status_code == 422


async def test_detail__people_ranked_and_rollup(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    body = (
        await client.get(f"/api/companies/{seeded.companies['acme']}", headers=alice.auth)
    ).json()
    assert body["name"] == "Acme Corp" and body["domain"] == "acme.test"
    assert [(p["name"], p["level"]) for p in body["people"]] == [
        ("Ada Lovelace", "very strong"),
        ("Linus Torvalds", "weak"),
    ]
    rollup = body["rollup"]
    assert rollup["people"] == 2 and rollup["best_score"] == 85.4
    assert (rollup["sent"], rollup["received"], rollup["going_cold"]) == (7, 6, 0)
    globex = (
        await client.get(f"/api/companies/{seeded.companies['globex']}", headers=alice.auth)
    ).json()
    assert globex["rollup"]["going_cold"] == 1
    assert (await client.get("/api/companies/999999", headers=alice.auth)).status_code == 404


async def test_pages__list_and_company(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await login(client, "alice@example.com")
    listing = (await client.get("/companies", headers={"accept": "text/html"})).text
    assert listing.index("Acme Corp") < listing.index("Globex")
    page = (
        await client.get(f"/companies/{seeded.companies['acme']}", headers={"accept": "text/html"})
    ).text
    assert "People, strongest first" in page and page.index("Ada Lovelace") < page.index(
        "Linus Torvalds"
    )
    filtered = (
        await client.get(
            f"/contacts?company={seeded.companies['acme']}", headers={"accept": "text/html"}
        )
    ).text
    assert "Ada Lovelace" in filtered and "Grace Hopper" not in filtered
