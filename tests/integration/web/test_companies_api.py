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


async def test_list__search_ignores_accents_both_ways_and_the_export_agrees(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: "nestle" did not find Nestlé, while the contacts search ignores accents (crm.fold).
    Company names and domains are compared folded, the search too, and so is the export."""
    for address in ("anna@nf-group.ch", "bo@citroen.fr", "cy@wisla-krakow.pl"):
        made = await client.post("/api/contacts", json={"address": address}, headers=alice.auth)
        assert made.status_code == 201, made.text
    async with pool.connection() as conn:
        for domain, name in (("nf-group.ch", "Nestlé"), ("citroen.fr", "Citroen")):
            await conn.execute(
                "UPDATE crm.companies SET name = %s WHERE domain = %s", (name, domain)
            )

    async def names(q: str) -> list[str]:
        response = await client.get("/api/companies", params={"q": q}, headers=alice.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return sorted(c["name"] for c in body["items"])

    assert await names("nestle") == ["Nestlé"]
    assert await names("NESTLÉ") == ["Nestlé"]
    assert await names("citroën") == ["Citroen"]  # accents in the search, none in the name
    assert await names("tlé") == ["Nestlé"]  # three letters, folded
    assert await names("lé") == ["Nestlé"]  # no trigram: a plain scan
    assert await names("wisla-krak") == ["Wisla-Krakow"]
    assert await names("citroen.f") == ["Citroen"]  # the domain as before
    assert await names("nestle citroen") == []  # the whole text, as before
    assert await names("50%") == []  # LIKE wildcards are plain characters
    exported = await client.get("/api/companies/export", params={"q": "nestle"}, headers=alice.auth)
    assert exported.status_code == 200 and "Nestlé" in exported.text
    assert "Citroen" not in exported.text
