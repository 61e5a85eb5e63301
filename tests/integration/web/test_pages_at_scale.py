"""The ways the pages read a big mailbox (issue 19, bench/web_routes_bench.py) give what the
small mailbox's ways give: a contact or company filter checked per message or read by key, a
folder checked per message or read by key, several words from the GIN index or in date order,
a deep page of the contacts list, the timeline from the links; and the web app's connections
run without JIT."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import message_search
from tests import pgbouncer
from tests.integration.web.conftest import User
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.test_messages_api import _ids, _seed


@pytest.fixture(params=["by key", "per message"])
def filter_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every contact, company and folder filter read by key (the ids of its messages), or
    every one checked per message (as for people and folders with much mail)."""
    monkeypatch.setattr(message_search, "DENSE_USES", 10**9 if request.param == "by key" else 0)
    yield request.param


async def test_filters__the_same_messages_by_key_or_checked_per_message(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, filter_path: str
) -> None:
    seeded = await _seed(pool, alice)
    m, c, acme = seeded.messages, seeded.contacts, seeded.companies["acme"]
    assert await _ids(client, alice, from_contact=c["ada"]) == [m["notes"], m["plan"]]
    assert await _ids(client, alice, to_contact=c["ada"]) == [m["reply"]]
    company = [m["notes"], m["reply"], m["plan"], m["linus"]]
    assert await _ids(client, alice, company=acme) == company
    assert await _ids(client, alice, company=acme, from_contact=c["ada"]) == [m["notes"], m["plan"]]
    assert await _ids(client, alice, company=acme, sort="date", q="engine") == [
        m["reply"],
        m["plan"],
    ]
    assert await _ids(client, alice, q="engine", from_contact=c["ada"]) == [m["plan"]]
    assert await _ids(client, alice, folder="archive") == [m["deck"]]
    assert await _ids(client, alice, folder="archive", q="zeppelin") == [m["deck"]]
    assert await _ids(client, alice, folder="archive", company=acme) == []
    assert await _ids(client, alice, folder="no such folder") == []
    seen, after = [], None
    while True:  # keyset pages, with the count on each
        params = {"company": acme, "limit": 3, **({"after": after} if after else {})}
        body = (await client.get("/api/messages", params=params, headers=alice.auth)).json()
        assert body["total"] == 4, filter_path
        seen += [x["id"] for x in body["items"]]
        if (after := body["next_after"]) is None:
            break
    assert seen == company
    other = await seed_crm(pool, (await _other_user(pool)), domain="other.test")
    assert await _ids(client, alice, company=other.companies["acme"]) == []  # not alice's
    assert await _ids(client, alice, from_contact=other.contacts["ada"]) == []


async def _other_user(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO crm.users (email) VALUES ('someone@other.test') RETURNING id"
        )
        return (await cur.fetchone())[0]  # type: ignore[index]


async def test_words__the_same_matches_from_the_gin_index_or_in_date_order(
    client: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Several words joined by AND are read from the GIN index when PostgreSQL puts them in
    less than SPARSE_SHARE of the mail (1.0: always), else in date order (0.0: never): the
    same pages, counts and people who wrote."""
    await _seed(pool, alice)
    searches = [
        {"q": "analytical engine"},
        {"q": "analytical engine", "sort": "date"},
        {"q": "zeppelin budget"},
        {"q": "engine plan", "limit": 1},
        {"q": "nothing matches"},
    ]
    seen: dict[float, list[object]] = {}
    for share in (0.0, 1.0):
        monkeypatch.setattr(message_search, "SPARSE_SHARE", share)
        pages = [
            (await client.get("/api/messages", params=p, headers=alice.auth)).json()
            for p in searches
        ]
        people = await client.get("/api/messages/people?q=analytical%20engine", headers=alice.auth)
        seen[share] = [*pages, people.json()]
    assert seen[0.0] == seen[1.0]
    assert [len(page["items"]) for page in seen[0.0][:5]] == [2, 2, 1, 1, 0]  # type: ignore[index]


async def test_contacts__a_deep_page_is_the_list_s_slice_with_its_figures(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """The strength and name orders pick the page's rows before reading their figures (the
    figures of the rows an offset skipped were read too): each page is the slice of the
    whole list, figures included, also through a list's members."""
    await seed_crm(pool, alice.account.id)
    for params in ({"sort": "strength"}, {"sort": "name"}, {"sort": "strength", "level": "strong"}):
        whole = await client.get(
            "/api/contacts", params={**params, "limit": 100}, headers=alice.auth
        )
        everyone = whole.json()["items"]
        assert everyone and all("figures" in x for x in everyone)
        for offset in range(len(everyone) + 1):
            page = await client.get(
                "/api/contacts", params={**params, "limit": 1, "offset": offset}, headers=alice.auth
            )
            assert page.json()["items"] == everyone[offset : offset + 1], (params, offset)
            assert page.json()["total"] == len(everyone)


async def test_timeline__pages_chosen_from_the_links_in_the_messages_order(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """A contact's timeline is chosen from its links (their date is the message's) and reads
    only the page's messages: newest first, undated last, the roles of each, every page."""
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    url = f"/api/contacts/{ada}/timeline"
    whole = (await client.get(url, headers=alice.auth)).json()
    async with pool.connection() as conn:
        expected = await (
            await conn.execute(
                "SELECT m.id FROM crm.messages m WHERE m.id IN (SELECT l.message_id"
                " FROM crm.contact_links l JOIN crm.contact_addresses a"
                " ON a.user_id = l.user_id AND a.address = l.address WHERE a.contact_id = %s)"
                " ORDER BY m.date DESC NULLS LAST, m.id DESC",
                (ada,),
            )
        ).fetchall()
    assert [x["message_id"] for x in whole["items"]] == [row[0] for row in expected]
    assert whole["total"] == len(expected) >= 2
    for offset in range(len(expected) + 1):
        page = await client.get(url, params={"limit": 1, "offset": offset}, headers=alice.auth)
        assert page.json()["items"] == whole["items"][offset : offset + 1]
        assert page.json()["total"] == len(expected)


async def test_web_pool__runs_without_jit(app: FastAPI) -> None:
    if pgbouncer.bounced():
        pytest.skip("behind a transaction pooler JIT is the role's setting (db.pool.open_pool)")
    async with app.state.fm.pool.connection() as conn:
        (jit,) = await (await conn.execute("SHOW jit")).fetchone()  # type: ignore[misc]
    assert jit == "off"
