"""Lists and corrections through the pages' forms: bulk add to a new list all or nothing, a
bad filter refused in words, an edit form that saves only what changed, a contact added by
hand (an address already known opens that contact), "Save this view" for any search (an
apostrophe, a colon), and a view whose tag was deleted saying so."""

from __future__ import annotations

import html
import re

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}


async def _count(pool: AsyncConnectionPool, table: str) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(f"SELECT count(*) FROM crm.{table}")).fetchone()
    assert row is not None
    return row[0]


async def _browser(client: httpx.AsyncClient) -> str:
    await login(client, "alice@example.com")
    return session_csrf((await client.get("/contacts", headers=HTML)).text)


async def test_bulk_add_to_a_new_list__all_or_nothing(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    csrf = await _browser(client)
    form = {"action": "add_to_list", "list_name": "Board", "csrf_token": csrf}
    mixed = {**form, "contact_ids": [str(seeded.contacts["ada"]), str(bobs.contacts["ada"])]}
    refused = await client.post("/contacts/bulk", data=mixed, headers=HTML)
    assert refused.status_code == 404
    assert await _count(pool, "contact_lists") == 0 and await _count(pool, "activity") == 0
    ok = {**form, "contact_ids": [str(seeded.contacts["ada"])], "back": "?cold=1"}
    done = await client.post("/contacts/bulk", data=ok, headers=HTML)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/contacts?cold=1&bulk=add_to_list&bulk_list=")
    page = await client.get(done.headers["location"], headers=HTML)
    assert "Added 1 contact to" in page.text and ">Board</a>" in page.text
    exported = await client.post(
        "/contacts/bulk",
        data={"action": "export", "contact_ids": [str(seeded.contacts["ada"])], "csrf_token": csrf},
        headers=HTML,
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert "ada@acme.test" in exported.text


async def test_list_forms__bad_filter_refused_in_words(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    csrf = await _browser(client)
    refused = await client.post(
        "/lists", data={"name": "X", "filter": "mood:happy", "csrf_token": csrf}, headers=HTML
    )
    assert refused.status_code == 400
    assert "Unknown filter “mood:”; use tag:" in refused.text
    assert "validation_error" not in refused.text
    assert await _count(pool, "contact_lists") == 0
    made = await client.post(
        "/lists", data={"name": "Cold", "filter": "cold:yes", "csrf_token": csrf}, headers=HTML
    )
    assert made.status_code == 303
    page = await client.get(made.headers["location"], headers=HTML)
    assert "Grace Hopper" in page.text and "Ada Lovelace" not in page.text


async def test_edit_form_saves_only_what_changed_and_add_by_hand(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    csrf = await _browser(client)
    form = {
        "name": "Ada Lovelace",
        "company": "acme.test",
        "title": "Chief Engineer",
        "phone": "+1 555 0100",
    }
    saved = await client.post(
        f"/contacts/{ada}/edit", data={**form, "csrf_token": csrf}, headers=HTML
    )
    assert saved.status_code == 303
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT name_source, company_source FROM crm.contacts WHERE id = %s", (ada,)
            )
        ).fetchone()
        facts = await (
            await conn.execute(
                "SELECT field FROM crm.contact_facts WHERE contact_id = %s AND source = 'you'",
                (ada,),
            )
        ).fetchall()
    assert row == ("mail", "mail")  # unchanged name and company are not pinned
    assert [f[0] for f in facts] == ["phone"]
    made = await client.post(
        "/contacts", data={"address": "ada@acme.test", "csrf_token": csrf}, headers=HTML
    )
    assert made.status_code == 303 and made.headers["location"] == f"/contacts/{ada}"
    bad = await client.post(
        "/contacts", data={"address": "nobody", "csrf_token": csrf}, headers=HTML
    )
    assert bad.status_code == 400 and "is not an email address" in bad.text


async def test_save_this_view__a_search_with_an_apostrophe_or_a_colon(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    csrf = await _browser(client)
    for address, name in (("conan@late.test", "Conan O'Brien"), ("meet@late.test", "Meet 12:30")):
        made = await client.post(
            "/api/contacts", json={"address": address, "name": name}, headers=alice.auth
        )
        assert made.status_code == 201, made.text
    for q, name in (("o'brien", "Conan O'Brien"), ("'t 12:30", None), ("12:30", "Meet 12:30")):
        shown = await client.get("/contacts", params={"q": q}, headers=HTML)
        found = re.search(r'name="filter" value="([^"]*)" form="save-view-form"', shown.text)
        assert found is not None, q
        text = html.unescape(found.group(1))
        made = await client.post(
            "/lists", data={"name": f"Q {q}", "filter": text, "csrf_token": csrf}, headers=HTML
        )
        assert made.status_code == 303, (q, text, made.text[:2000])
        page = await client.get(made.headers["location"], headers=HTML)
        if name:
            assert name in html.unescape(page.text), q
        assert "Ada Lovelace" not in page.text, q


async def test_deleted_tag__the_view_says_so(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    csrf = await _browser(client)
    tag = (await client.post("/api/tags", json={"name": "Investors"}, headers=alice.auth)).json()
    bulk = {"action": "tag", "tag_id": tag["id"], "contact_ids": [seeded.contacts["ada"]]}
    assert (await client.post("/api/contacts/bulk", json=bulk, headers=alice.auth)).is_success
    made = await client.post(
        "/lists", data={"name": "Inv", "filter": "tag:Investors", "csrf_token": csrf}, headers=HTML
    )
    assert made.status_code == 303
    assert "Ada Lovelace" in (await client.get(made.headers["location"], headers=HTML)).text
    deleted = await client.delete(f"/api/tags/{tag['id']}", headers=alice.auth)
    assert deleted.is_success
    page = await client.get(made.headers["location"], headers=HTML)
    assert page.status_code == 200
    assert "This view matches nobody right now" in page.text
    assert "there is no tag called “Investors” any more" in html.unescape(page.text)
    assert "Ada Lovelace" not in page.text
