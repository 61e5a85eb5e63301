"""The message list and mail search (issue 14): words over subjects, people and bodies ranked
with highlighted excerpts, filters, keyset pages, people who wrote about a subject, the page, and
nothing of another user's."""

from __future__ import annotations

from datetime import timedelta

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import service as contacts_service
from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import NOW, Seeded, seed_crm

HTML = {"accept": "text/html"}


async def _seed(pool: AsyncConnectionPool, user: User) -> Seeded:
    """seed_crm's five messages, plus one with an attachment in an "archive" folder of a
    connection, an undated one, and recipients for the search to find."""
    seeded = await seed_crm(pool, user.account.id)
    uid = user.account.id
    async with pool.connection() as conn, conn.transaction():
        row = await (
            await conn.execute(
                "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text, from_address,"
                " from_name, date, has_attachment, recipients) VALUES"
                " (%s, 'fp:deck', 'Quarterly deck', 'The slides are attached: zeppelin budget.',"
                "  'ada@acme.test', 'Ada Lovelace', %s, true, 'Charles Babbage cb@engine.test'),"
                " (%s, 'fp:undated', 'Lost in time', 'A note about the zeppelin.', 'x@y.test',"
                "  'X', NULL, false, '')"
                " RETURNING id",
                (uid, NOW - timedelta(days=1), uid),
            )
        ).fetchall()
        seeded.messages |= {"deck": row[0][0], "undated": row[1][0]}
        connection = await (
            await conn.execute(
                "INSERT INTO crm.connections (user_id, kind, source) VALUES (%s, 'mbox', '/x')"
                " RETURNING id",
                (uid,),
            )
        ).fetchone()
        assert connection
        folder = await (
            await conn.execute(
                "INSERT INTO crm.folders (connection_id, name) VALUES (%s, 'archive') RETURNING id",
                (connection[0],),
            )
        ).fetchone()
        assert folder
        await conn.execute(
            "INSERT INTO crm.message_folders (folder_id, source_id, message_id) VALUES (%s, 'a', %s)",
            (folder[0], seeded.messages["deck"]),
        )
    return seeded


async def _ids(client: httpx.AsyncClient, user: User, **params: object) -> list[int]:
    response = await client.get("/api/messages", params=params, headers=user.auth)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


async def test_list__newest_first_undated_last_in_keyset_pages(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    m = (await _seed(pool, alice)).messages
    newest_first = [m[k] for k in ("deck", "notes", "reply", "plan", "linus", "grace", "undated")]
    assert await _ids(client, alice) == newest_first
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        body = (await client.get("/api/messages", params=params, headers=alice.auth)).json()
        assert body["total"] == 7 and not body["total_capped"]
        seen += [x["id"] for x in body["items"]]
        after = body["next_after"]
        if after is None:
            break
    assert seen == newest_first


async def test_search__ranked_over_subject_people_and_body_with_marked_excerpts(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    m = (await _seed(pool, alice)).messages
    body = (await client.get("/api/messages?q=engine", headers=alice.auth)).json()
    assert {x["id"] for x in body["items"]} == {m["plan"], m["reply"]}
    plan = next(x for x in body["items"] if x["id"] == m["plan"])
    assert {"text": "engine", "hit": True} in plan["headline"]  # the body's "engine" marked
    assert {"text": "engine", "hit": True} in plan["subject_marked"]
    assert plan["rank"] > 0
    # the subject (weight A) outranks the body (C): "zeppelin" is in the deck's body and in the
    # undated message's body; "slides" only in a body, "quarterly" only in a subject
    assert await _ids(client, alice, q="zeppelin", sort="date") == [m["deck"], m["undated"]]
    assert await _ids(client, alice, q="quarterly") == [m["deck"]]
    assert await _ids(client, alice, q="babbage") == [m["deck"]]  # a recipient's name
    assert await _ids(client, alice, q="Grace Hopper") == [m["grace"]]  # the sender's
    assert await _ids(client, alice, q='"analytical engine" -re') == [m["plan"]]
    assert await _ids(client, alice, q="engine or compiler", sort="date") == [
        m["reply"], m["plan"], m["grace"],
    ]  # fmt: skip
    nothing = (await client.get("/api/messages?q=%22%21%3F", headers=alice.auth)).json()
    assert nothing == {"items": [], "total": 0, "total_capped": False, "next_after": None}
    # ts_headline drops markup tags from the excerpt (the page escapes whatever is left)
    html = (await client.get("/api/messages?q=plan", headers=alice.auth)).json()
    found = next(x for x in html["items"] if x["id"] == m["plan"])
    assert "".join(f["text"] for f in found["headline"]).startswith("Here is the  plan")


async def test_search__keyset_pages_in_rank_order(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await _seed(pool, alice)
    everything = await _ids(client, alice, q="engine or zeppelin or compiler or patch")
    assert len(everything) == 6
    seen, after = [], None
    while True:
        params = {"q": "engine or zeppelin or compiler or patch", "limit": 4}
        response = await client.get(
            "/api/messages", params={**params, **({"after": after} if after else {})},
            headers=alice.auth,
        )  # fmt: skip
        seen += [x["id"] for x in response.json()["items"]]
        if (after := response.json()["next_after"]) is None:
            break
    assert seen == everything
    date_cursor = (await client.get("/api/messages?limit=1", headers=alice.auth)).json()
    wrong = await client.get(
        "/api/messages",
        params={"q": "engine", "after": date_cursor["next_after"]},
        headers=alice.auth,
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "bad_cursor"
    garbage = await client.get("/api/messages?after=bm9wZQ", headers=alice.auth)
    assert garbage.status_code == 400


async def test_filters(client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool) -> None:
    seeded = await _seed(pool, alice)
    m, c = seeded.messages, seeded.contacts
    assert await _ids(client, alice, from_contact=c["ada"]) == [m["notes"], m["plan"]]
    assert await _ids(client, alice, to_contact=c["ada"]) == [m["reply"]]
    acme = seeded.companies["acme"]
    assert await _ids(client, alice, company=acme) == [
        m["notes"],
        m["reply"],
        m["plan"],
        m["linus"],
    ]
    assert await _ids(client, alice, attachment="true") == [m["deck"]]
    assert await _ids(client, alice, folder="archive") == [m["deck"]]
    since = (NOW - timedelta(days=25)).isoformat()
    until = (NOW - timedelta(days=5)).isoformat()
    assert await _ids(client, alice, since=since, until=until) == [m["reply"], m["plan"]]
    assert await _ids(client, alice, q="engine", from_contact=c["ada"]) == [m["plan"]]


async def test_people_who_wrote_about(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await _seed(pool, alice)
    found = (await client.get("/api/messages/people?q=engine", headers=alice.auth)).json()
    assert [(w["id"], w["messages"]) for w in found] == [(seeded.contacts["ada"], 1)]
    assert found[0]["company_name"] == "Acme Corp"
    many = (await client.get("/api/messages/people?q=engine or notes", headers=alice.auth)).json()
    assert [w["messages"] for w in many] == [2]  # "me" (the reply's sender) is no contact
    assert (await client.get("/api/messages/people?q=-", headers=alice.auth)).json() == []


async def test_another_user_finds_nothing(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    alices = await _seed(pool, alice)
    assert await _ids(client, bob) == []
    assert await _ids(client, bob, q="engine") == []
    assert await _ids(client, bob, from_contact=alices.contacts["ada"]) == []
    assert await _ids(client, bob, company=alices.companies["acme"]) == []
    assert (await client.get("/api/messages/people?q=engine", headers=bob.auth)).json() == []


async def test_page__search_with_marks_escaped_and_people_fragment(
    make_client, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    await _seed(pool, alice)
    browser = make_client()
    await login(browser, "alice@example.com")
    page = await browser.get("/messages?q=plan", headers=HTML)
    assert page.status_code == 200
    assert "<mark>plan</mark>" in page.text and "<b>plan" not in page.text
    assert 'href="/messages" aria-current="page"' in page.text
    listed = await browser.get("/messages?attachment=1&folder=archive", headers=HTML)
    assert "Quarterly deck" in listed.text and "Analytical engine" not in listed.text
    assert (await browser.get("/messages?since=yesterday", headers=HTML)).status_code == 400
    people = await browser.get("/messages/people?q=engine", headers=HTML)
    assert "Ada Lovelace" in people.text
    contacts = await browser.get("/contacts?q=engine", headers=HTML)
    assert "/messages/people?q=engine" in contacts.text
    other = make_client()
    await login(other, "bob@example.com")
    bobs = await other.get("/messages?q=engine", headers=HTML)
    assert bobs.status_code == 200 and "Analytical" not in bobs.text
    assert "Ada" not in (await other.get("/messages/people?q=engine", headers=HTML)).text


async def test_search__counts_up_to_the_cap(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.messages (user_id, dedup_key, subject, date)"
            " SELECT %s, 'fp:w' || i, 'widget ' || i, %s - i * interval '1 hour'"
            " FROM generate_series(1, 202) i",
            (alice.account.id, NOW),
        )
    for sort in ("relevance", "date"):
        body = (await client.get(f"/api/messages?q=widget&sort={sort}", headers=alice.auth)).json()
        assert (body["total"], body["total_capped"]) == (200, True), sort
    few = (await client.get("/api/messages?q=widget 7", headers=alice.auth)).json()
    assert (few["total"], few["total_capped"]) == (1, False)


async def test_one_message__shows_the_automated_reason_extraction_recorded(
    make_client, alice: User, pool: AsyncConnectionPool
) -> None:
    """The reason lives in crm.message_automated (0043): the API and the page still show it."""
    uid = alice.account.id
    async with pool.connection() as conn, conn.transaction():
        rows = await (
            await conn.execute(
                "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text, from_address,"
                " date) VALUES (%s, 'fp:anon', 'From nobody', 'x', NULL, %s),"
                " (%s, 'fp:ada', 'From Ada', 'y', 'ada@acme.com', %s) RETURNING id",
                (uid, NOW, uid, NOW),
            )
        ).fetchall()
        anon, ada = (r[0] for r in rows)
        await conn.execute(
            "INSERT INTO crm.message_participants (message_id, role, position, address)"
            " VALUES (%s, 'from', 0, 'ada@acme.com'), (%s, 'to', 0, 'alice@example.com')",
            (ada, ada),
        )
        await contacts_service.extract_messages(conn, [anon, ada], now=NOW)
    browser = make_client()
    await login(browser, "alice@example.com")
    body = (await browser.get(f"/api/messages/{anon}")).json()
    assert body["automated_reason"] == "no_sender"
    assert (await browser.get(f"/api/messages/{ada}")).json()["automated_reason"] is None
    page = await browser.get(f"/messages/{anon}", headers=HTML)
    assert page.status_code == 200 and "automated: no_sender" in page.text
    assert "automated:" not in (await browser.get(f"/messages/{ada}", headers=HTML)).text
