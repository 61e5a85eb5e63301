"""Notes and tags through the pages' forms: a note written and shown safely in the timeline
with its author; refused input explained in words with nothing written; bulk tagging with a
new tag made only when the whole change succeeds; an existing tag reused by name."""

from __future__ import annotations

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


async def test_note_form__written_shown_safely_and_refused_in_words(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    csrf = await _browser(client)
    body = "**Lunch** with @Grace <img src=x onerror=alert(1)> [x](javascript:alert(1))"
    made = await client.post(
        f"/contacts/{ada}/notes", data={"body": body, "csrf_token": csrf}, headers=HTML
    )
    assert made.status_code == 303 and made.headers["location"].startswith(f"/contacts/{ada}#note-")
    page = (await client.get(f"/contacts/{ada}", headers=HTML)).text
    assert "<strong>Lunch</strong>" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript:' not in page and "<img src=x" not in page
    assert "Note by <strong>alice@example.com</strong>" in page
    assert f'href="/contacts/{seeded.contacts["grace"]}">Grace Hopper</a>' in page
    assert "added a note" in page  # the history card
    grace = (await client.get(f"/contacts/{seeded.contacts['grace']}", headers=HTML)).text
    assert "<strong>Lunch</strong>" in grace  # mentioned: shown there too

    for bad in ("", "   ", "x" * 100_001):
        refused = await client.post(
            f"/contacts/{ada}/notes", data={"body": bad, "csrf_token": csrf}, headers=HTML
        )
        assert refused.status_code == 400, len(bad)
        assert "A note " in refused.text and "validation_error" not in refused.text
    assert await _count(pool, "notes") == 1 and await _count(pool, "activity") == 1


async def test_bulk_form__all_or_nothing_and_a_tag_reused_by_name(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    csrf = await _browser(client)
    people = [str(seeded.contacts[n]) for n in ("ada", "grace", "linus")]
    form = {"action": "tag", "name": "Board", "colour": "purple", "csrf_token": csrf}
    refused = await client.post(
        "/contacts/bulk",
        data={**form, "contact_ids": [*people, str(bobs.contacts["ada"])]},
        headers=HTML,
    )
    assert refused.status_code == 404
    assert await _count(pool, "tags") == 0 and await _count(pool, "contact_tags") == 0
    done = await client.post(
        "/contacts/bulk", data={**form, "contact_ids": people, "back": "?sort=name"}, headers=HTML
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/contacts?sort=name&bulk=tag&bulk_tag=")
    listed = (await client.get(done.headers["location"], headers=HTML)).text
    assert "Tagged 3 contacts" in listed and listed.count("tag tag-purple") >= 4
    again = await client.post(
        f"/contacts/{seeded.contacts['colleague']}/tags",
        data={"name": "board", "colour": "red", "csrf_token": csrf},
        headers=HTML,
    )
    assert again.status_code == 303
    assert await _count(pool, "tags") == 1 and await _count(pool, "contact_tags") == 4
    nothing = await client.post(
        "/contacts/bulk", data={"action": "tag", "csrf_token": csrf}, headers=HTML
    )
    assert nothing.status_code == 400 and "Tick the contacts" in nothing.text


async def test_manage_tags__rename_and_delete_from_the_contacts_page(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    tag = (await client.post("/api/tags", json={"name": "Old"}, headers=alice.auth)).json()
    other = (await client.post("/api/tags", json={"name": "Other"}, headers=alice.auth)).json()
    await client.put(f"/api/contacts/{seeded.contacts['ada']}/tags/{tag['id']}", headers=alice.auth)
    csrf = await _browser(client)
    renamed = await client.post(
        f"/tags/{tag['id']}/edit",
        data={"name": "New", "colour": "teal", "csrf_token": csrf},
        headers=HTML,
    )
    assert renamed.status_code == 303
    listed = (await client.get("/contacts", headers=HTML)).text
    assert 'class="tag tag-teal">New' in listed
    clash = await client.post(
        f"/tags/{other['id']}/edit", data={"name": "new", "csrf_token": csrf}, headers=HTML
    )
    assert clash.status_code == 409 and "already a tag called" in clash.text
    bad = await client.post(
        f"/tags/{other['id']}/edit", data={"colour": "#fff", "csrf_token": csrf}, headers=HTML
    )
    assert bad.status_code == 400
    gone = await client.post(f"/tags/{tag['id']}/delete", data={"csrf_token": csrf}, headers=HTML)
    assert gone.status_code == 303
    assert await _count(pool, "tags") == 1 and await _count(pool, "contact_tags") == 0
