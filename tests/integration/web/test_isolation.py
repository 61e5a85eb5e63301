"""A second user can neither read nor change the first user's contacts, companies, messages,
merges, connections or jobs through any route: every route with a path parameter, API (from
the OpenAPI schema) and pages alike, is called by Bob with Alice's ids."""

from __future__ import annotations

import importlib
import pkgutil
import re

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from fluffymail.web import ui
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.identity_seed import AIDE, ALIAS, seed_identity

ADMIN_ONLY = re.compile(r"^/(api/)?(jobs|queues|schedules|workers)\b")


def _page_routes() -> list[APIRoute]:
    """Every page route: those of each `fluffymail.web.ui` module's router."""
    routes = []
    for info in pkgutil.iter_modules(ui.__path__):
        module = importlib.import_module(f"{ui.__name__}.{info.name}")
        router = getattr(module, "router", None)
        routes += [r for r in getattr(router, "routes", []) if isinstance(r, APIRoute)]
    return routes


async def _alices_world(
    client: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    make_connection,
    jobs: JobQueue,
) -> dict[str, list[object]]:
    seeded = await seed_crm(pool, alice.account.id)
    merged = await client.post(
        f"/api/contacts/{seeded.contacts['ada']}/merge",
        json={"other_contact_id": seeded.contacts["linus"]},
        headers=alice.auth,
    )
    assert merged.status_code == 200
    connection = await make_connection(alice)
    synced = await client.post(f"/api/connections/{connection}/sync", headers=alice.auth)
    tokens = (await client.get("/api/me/tokens", headers=alice.auth)).json()
    await seed_identity(pool, alice)
    return {
        "contact_id": list(seeded.contacts.values()),
        "company_id": list(seeded.companies.values()),
        "message_id": list(seeded.messages.values()),
        "merge_id": [merged.json()["merge_id"]],
        "connection_id": [connection],
        "job_id": [synced.json()["job_id"]],
        "name": ["sync-emails"],
        "action": ["pause", "resume"],
        "token_id": [token["id"] for token in tokens],
        "address": [ALIAS, AIDE],
    }


async def _snapshot(pool: AsyncConnectionPool, jobs: JobQueue) -> tuple[object, ...]:
    async with pool.connection() as conn:
        contacts = await (
            await conn.execute(
                "SELECT id, name, merged_into_id, company_id FROM crm.contacts ORDER BY id"
            )
        ).fetchall()
        merges = await (
            await conn.execute("SELECT id, unmerged_on FROM crm.contact_merges ORDER BY id")
        ).fetchall()
        addresses = await (
            await conn.execute(
                "SELECT address, contact_id FROM crm.contact_addresses ORDER BY address"
            )
        ).fetchall()
        tokens = await (await conn.execute("SELECT id FROM crm.api_tokens ORDER BY id")).fetchall()
    found = [(j.id, j.state) for j in await jobs.find_jobs(limit=1000)]
    return contacts, merges, addresses, tokens, found, len(await jobs.get_schedules())


def _fill(path: str, ids: dict[str, list[object]]) -> list[str]:
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in ids]
    assert not unknown, f"{path}: add Alice's {unknown} to the isolation test"
    paths = [path]
    for name in names:
        paths = [p.replace(f"{{{name}}}", str(value)) for p in paths for value in ids[name]]
    return paths


async def test_bob_cannot_reach_alices_data_through_any_api_route(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: User,
    bob: User,
    pool: AsyncConnectionPool,
    make_connection,
    jobs: JobQueue,
) -> None:
    ids = await _alices_world(client, alice, pool, make_connection, jobs)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    before = await _snapshot(pool, jobs)
    schema = (await client.get("/openapi.json")).json()
    probed = 0
    for template, operations in schema["paths"].items():
        if "{" not in template:
            continue
        for method in operations:
            for path in _fill(template, ids):
                body = (
                    {"other_contact_id": bobs.contacts["ada"]}
                    if path.endswith("/merge")
                    else {
                        "visibility": "metadata"
                    }  # PATCH /api/connections/{id}; ignored elsewhere
                    if method == "patch"
                    else None
                )
                response = await client.request(method.upper(), path, json=body, headers=bob.auth)
                expected = 403 if ADMIN_ONLY.match(template) else 404
                assert response.status_code == expected, (method, path, response.text)
                assert set(response.json()) == {"error"}, path
                probed += 1
    assert probed > 30
    # Bob merging Alice's contact into his own is refused the same way.
    steal = await client.post(
        f"/api/contacts/{bobs.contacts['ada']}/merge",
        json={"other_contact_id": ids["contact_id"][0]},
        headers=bob.auth,
    )
    assert steal.status_code == 404
    assert await _snapshot(pool, jobs) == before
    # Bob's lists hold only his own people and companies.
    listed = (await client.get("/api/contacts?limit=200", headers=bob.auth)).json()["items"]
    assert {c["primary_address"].split("@")[1] for c in listed} <= {
        "bob.test",
        "globex.example",
        "mine.test",
    }
    assert all(c["id"] in bobs.contacts.values() for c in listed)
    companies = (await client.get("/api/companies", headers=bob.auth)).json()["items"]
    assert {c["id"] for c in companies} == set(bobs.companies.values())
    assert (await client.get("/api/connections", headers=bob.auth)).json() == []


async def test_bob_cannot_reach_alices_data_through_any_page(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_client,
    alice: User,
    bob: User,
    pool: AsyncConnectionPool,
    make_connection,
    jobs: JobQueue,
) -> None:
    ids = await _alices_world(client, alice, pool, make_connection, jobs)
    before = await _snapshot(pool, jobs)
    browser = make_client()
    await login(browser, "bob@example.com")
    csrf = session_csrf((await browser.get("/contacts", headers={"accept": "text/html"})).text)
    headers = {"accept": "text/html", "X-CSRF-Token": csrf}
    pages = [r for r in _page_routes() if "{" in r.path]
    assert len(pages) >= 8
    for route in pages:
        for method in route.methods:
            for path in _fill(route.path, ids):
                data = (
                    {"other_contact_id": "1", "csrf_token": csrf}
                    if path.endswith("/merge")
                    else {"visibility": "metadata"}
                    if path.endswith("/visibility")
                    else None
                )
                response = await browser.request(method, path, headers=headers, data=data)
                expected = 403 if ADMIN_ONLY.match(route.path) else 404
                assert response.status_code == expected, (method, path, response.status_code)
                assert (
                    "Ada Lovelace" not in response.text and "Analytical engine" not in response.text
                )
    assert await _snapshot(pool, jobs) == before
