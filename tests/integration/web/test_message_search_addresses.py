"""Mail search by part of an address (QA on an Enron mailbox: `pnm.com` and `jeff.dasovich`
found nothing, though PostgreSQL's parser keeps `jeff.dasovich@enron.com` whole): a domain finds
the mail from and to it, a local part its person's mail, through the addresses extraction met;
ordinary words are searched as before; the page and the API agree."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import service as contacts_service
from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import NOW

HTML = {"accept": "text/html"}
ME = "alice@example.com"
# key: (from, to, subject, body); the names say nothing of the addresses
MAIL = {
    "from_pnm": ("jdoe@pnm.com", ME, "Tariff filing", "The tariff budget is attached."),
    "to_pnm": (ME, "bob_smith@mail.pnm.com", "Re: tariff", "Thanks, see you Monday."),
    "from_jeff": ("jeff.dasovich@enron.com", ME, "California update", "Dasovich wrote the memo."),
    "to_jeff": (ME, "jeff.dasovich@enron.com", "Re: California", "Let us talk budget."),
    "lookalike": ("ann@xpnm.com", ME, "Other company", "Nothing about pnm here."),
    "plain": ("carl@example.org", ME, "Budget", "The budget of Dasovich Fan Club."),
}


async def _seed(pool: AsyncConnectionPool, user: User) -> dict[str, int]:
    """MAIL, a day apart, newest first, with its participants, then extracted as a sync's run
    would (the people, contacts or not, and their addresses)."""
    ids: dict[str, int] = {}
    async with pool.connection() as conn, conn.transaction():
        for n, (key, (sender, to, subject, body)) in enumerate(MAIL.items()):
            values = (user.account.id, f"fp:{key}", subject, body, sender, NOW - timedelta(days=n))
            row = await (
                await conn.execute(
                    "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text,"
                    " from_address, from_name, date, recipients)"
                    " VALUES (%s, %s, %s, %s, %s, 'Someone', %s, %s) RETURNING id",
                    (*values, f"Someone {to}"),
                )
            ).fetchone()
            assert row
            ids[key] = row[0]
            await conn.execute(
                "INSERT INTO crm.message_participants (message_id, role, position, address)"
                " VALUES (%s, 'from', 0, %s), (%s, 'to', 0, %s)",
                (row[0], sender, row[0], to),
            )
        await contacts_service.extract_messages(conn, list(ids.values()), now=NOW)
    return ids


async def _found(client: httpx.AsyncClient, user: User, q: str, sort: str = "date") -> list[int]:
    response = await client.get("/api/messages", params={"q": q, "sort": sort}, headers=user.auth)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


async def test_search__a_domain_finds_the_mail_from_and_to_it(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    m = await _seed(pool, alice)
    assert await _found(client, alice, "pnm.com") == [m["from_pnm"], m["to_pnm"]]
    assert set(await _found(client, alice, "PNM.com", sort="relevance")) == {
        m["from_pnm"], m["to_pnm"],
    }  # fmt: skip
    assert await _found(client, alice, "@pnm.com") == [m["from_pnm"]]  # that domain, no other
    assert await _found(client, alice, "mail.pnm.com") == [m["to_pnm"]]
    assert await _found(client, alice, "enron.com") == [m["from_jeff"], m["to_jeff"]]
    assert await _found(client, alice, "xpnm.com") == [m["lookalike"]]
    assert await _found(client, alice, "nobody.example") == []  # a domain nobody uses
    assert await _found(client, alice, "@nobody.example") == []
    # with the search's operators, as any word
    assert await _found(client, alice, "pnm.com budget") == [m["from_pnm"]]
    assert await _found(client, alice, "pnm.com or enron.com") == [
        m["from_pnm"], m["to_pnm"], m["from_jeff"], m["to_jeff"],
    ]  # fmt: skip
    assert await _found(client, alice, "tariff -pnm.com") == []
    assert await _found(client, alice, '"tariff budget" pnm.com') == [m["from_pnm"]]  # a phrase
    assert await _found(client, alice, "budget -@pnm.com") == [m["to_jeff"], m["plain"]]
    assert await _found(client, alice, "example.com") == list(m.values())  # the user's own


async def test_search__a_local_part_finds_its_person_s_mail(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    m = await _seed(pool, alice)
    assert await _found(client, alice, "jeff.dasovich") == [m["from_jeff"], m["to_jeff"]]
    assert await _found(client, alice, "<Jeff.Dasovich@Enron.com>,") == [
        m["from_jeff"], m["to_jeff"],
    ]  # fmt: skip
    assert await _found(client, alice, "jdoe@") == [m["from_pnm"]]
    assert await _found(client, alice, "bob_smith") == [m["to_pnm"]]
    assert await _found(client, alice, "jeff.dasovich update") == [m["from_jeff"]]
    assert await _found(client, alice, "jeff.das") == []  # a whole part of the address, not less
    people = await client.get("/api/messages/people?q=jeff.dasovich", headers=alice.auth)
    assert [(w["primary_address"], w["messages"]) for w in people.json()] == [
        ("jeff.dasovich@enron.com", 1)
    ]  # the one message he wrote (alice wrote to him, so he is a contact)


async def test_search__ordinary_words_and_phrases_find_what_they_found(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """Words that are no part of an address, and quoted phrases, search the vector alone."""
    m = await _seed(pool, alice)
    queries = ["budget", "dasovich", "tariff budget", "budget or memo", "budget -dasovich",
               '"dasovich fan"', '"pnm.com"', "pnm", "someone", '"jeff.dasovich" memo']  # fmt: skip
    for q in queries:
        async with pool.connection() as conn:
            expected = [
                r[0]
                for r in await (
                    await conn.execute(
                        "SELECT m.id FROM crm.messages m WHERE m.user_id = %s"
                        " AND crm.message_vector(m.subject, m.from_name, m.from_address,"
                        "  m.recipients, m.body_text) @@ websearch_to_tsquery('simple', %s)"
                        " ORDER BY m.date DESC NULLS LAST, m.id DESC",
                        (alice.account.id, q),
                    )
                ).fetchall()
            ]
        assert await _found(client, alice, q) == expected, q
    assert await _found(client, alice, "dasovich") == [m["from_jeff"], m["plain"]]
    assert await _found(client, alice, '"pnm.com"') == []  # a phrase is searched as typed


async def test_search__the_page_and_the_api_agree(
    client: httpx.AsyncClient, make_client, alice: User, pool: AsyncConnectionPool
) -> None:
    m = await _seed(pool, alice)
    browser = make_client()
    await login(browser, ME)
    for q in ("pnm.com", "jeff.dasovich", "budget", "nobody.example"):
        for sort in ("relevance", "date"):
            page = await browser.get("/messages", params={"q": q, "sort": sort}, headers=HTML)
            assert page.status_code == 200
            listed = [int(i) for i in re.findall(r'class="message-subject" href="/messages/(\d+)"',
                                                 page.text)]  # fmt: skip
            assert listed == await _found(client, alice, q, sort=sort), (q, sort)
    page = await browser.get("/messages", params={"q": "pnm.com"}, headers=HTML)
    assert "Tariff filing" in page.text and "Other company" not in page.text
    assert m["lookalike"] not in await _found(client, alice, "pnm.com")
