"""Tag, list and keep-in-touch writes aimed at a contact merged into another (an API client
holding an old id; merges also happen by themselves) answer 409 naming the contact it joined,
one or many at once, with nothing written; as notes do (test_notes_tags_api.py)."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}
WRITTEN = (
    "SELECT (SELECT count(*) FROM crm.contact_tags) + (SELECT count(*) FROM"
    " crm.contact_list_members) + (SELECT count(*) FROM crm.contact_cadences)"
)


async def _written(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(WRITTEN)).fetchone()
    assert row is not None
    return row[0]


async def _merge(client: httpx.AsyncClient, user: User, into: int, other: int) -> None:
    merged = await client.post(
        f"/api/contacts/{into}/merge", json={"other_contact_id": other}, headers=user.auth
    )
    assert merged.status_code == 200, merged.text


async def test_writes_on_a_merged_contact__409_naming_the_contact_it_joined(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: PUT /api/contacts/{old}/tags/{tag}, POST /api/contacts/bulk, POST
    /api/lists/{id}/contacts (and …/remove), PUT /api/contacts/{old}/cadence and POST
    /api/contacts/cadence answered 404 "no contact N" for a contact merged away."""
    seeded = await seed_crm(pool, alice.account.id)
    ada, grace, linus = (seeded.contacts[n] for n in ("ada", "grace", "linus"))
    colleague = seeded.contacts["colleague"]
    await _merge(client, alice, ada, linus)  # Linus joined Ada
    tag = (await client.post("/api/tags", json={"name": "VIP"}, headers=alice.auth)).json()
    board = await client.post(
        "/api/lists", json={"name": "Board", "kind": "static"}, headers=alice.auth
    )
    list_id = board.json()["id"]
    before = await _written(pool)
    joined = f"contact {linus} was merged into Ada Lovelace (contact {ada}); use that one"

    single = [
        ("PUT", f"/api/contacts/{linus}/tags/{tag['id']}", None),
        ("DELETE", f"/api/contacts/{linus}/tags/{tag['id']}", None),
        ("PUT", f"/api/contacts/{linus}/cadence", {"days": 30}),
        ("PUT", f"/api/contacts/{linus}/cadence", {"days": None}),
    ]
    bulk = [
        ("POST", "/api/contacts/bulk", {"action": "tag", "tag_id": tag["id"]}),
        ("POST", "/api/contacts/bulk", {"action": "untag", "tag_id": tag["id"]}),
        ("POST", f"/api/lists/{list_id}/contacts", {}),
        ("POST", f"/api/lists/{list_id}/contacts/remove", {}),
        ("POST", "/api/contacts/cadence", {"days": 30}),
    ]
    for method, url, body in single:
        answer = await client.request(method, url, json=body, headers=alice.auth)
        assert answer.status_code == 409, (method, url, answer.text)
        error = answer.json()["error"]
        assert error["message"] == joined, (url, error)
        assert error["details"] == [{"contact_id": linus, "merged_into_id": ada}]
    for method, url, body in bulk:  # all or nothing: Grace is not tagged either
        body = {**body, "contact_ids": [grace, linus]}
        answer = await client.request(method, url, json=body, headers=alice.auth)
        assert answer.status_code == 409, (url, answer.text)
        assert answer.json()["error"]["message"] == f"{joined} (nothing was changed)", url
    assert await _written(pool) == before

    # Several merged at once: each named with the contact it joined, and a merge into a contact
    # merged since is followed to where that one went (Linus → Ada → Grace).
    await _merge(client, alice, colleague, seeded.contacts["robot"])
    await _merge(client, alice, grace, ada)
    many = await client.post(
        "/api/contacts/cadence",
        json={"days": 7, "contact_ids": [colleague, linus, ada, seeded.contacts["robot"]]},
        headers=alice.auth,
    )
    assert many.status_code == 409, many.text
    error = many.json()["error"]
    assert error["details"] == [
        {"contact_id": ada, "merged_into_id": grace},
        {"contact_id": linus, "merged_into_id": grace},
        {"contact_id": seeded.contacts["robot"], "merged_into_id": colleague},
    ]
    assert error["message"].startswith("3 of these contacts were merged into others, use those:")
    survivor = (await client.get(f"/api/contacts/{grace}", headers=alice.auth)).json()["name"]
    assert f"contact {linus} into {survivor} (contact {grace})" in error["message"]
    assert f"into Pat Colleague (contact {colleague})" in error["message"]
    # Not yours beats merged: 404, as before, naming the one that is not.
    mixed = await client.post(
        "/api/contacts/cadence",
        json={"days": 7, "contact_ids": [linus, 999_999]},
        headers=alice.auth,
    )
    assert mixed.status_code == 404 and mixed.json()["error"]["message"] == "no contact 999999"
    assert await _written(pool) == before

    # The page's forms say the same in words.
    await login(client, "alice@example.com")
    csrf = session_csrf((await client.get("/contacts", headers=HTML)).text)
    page = await client.post(
        f"/contacts/{linus}/cadence", data={"days": "30", "csrf_token": csrf}, headers=HTML
    )
    assert page.status_code == 409
    assert f"merged into {survivor} (contact {grace})" in page.text
