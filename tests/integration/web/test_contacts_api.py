"""Contacts over the API: the ranked list (search, filters, sorts, pages), one contact with its
evidence, stats, summary and sources resolved, the timeline, merge and undo, messages, pages."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.jobs import analyze_relationships
from fluffymail.queue import JobQueue
from fluffymail.web.services import contacts as contacts_service
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}


async def _names(client: httpx.AsyncClient, user: User, **params: object) -> list[str]:
    response = await client.get("/api/contacts", params=params, headers=user.auth)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["items"]]


async def test_list__ranked_by_strength_without_hidden_or_suppressed(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    body = (await client.get("/api/contacts", headers=alice.auth)).json()
    assert [c["name"] for c in body["items"]] == [
        "Ada Lovelace",
        "Grace Hopper",
        "Linus Torvalds",
        "Pat Colleague",
    ]
    assert body["total"] == 4 and body["next_offset"] is None
    ada, grace, _, pat = body["items"]
    assert ada["level"] == "very strong" and ada["score"] == 85.4 and ada["trend"] == "warming"
    assert ada["company"]["name"] == "Acme Corp" and ada["sent"] == 6 and ada["received"] == 5
    assert grace["going_cold"] is True
    assert pat["score"] is None and pat["level"] == "no connection" and pat["is_internal"]


async def test_list__company_has_the_same_domain_as_the_contact_page(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    for params in ({}, {"sort": "name"}, {"sort": "last_interaction"}, {"q": "acme"}):
        listed = (await client.get("/api/contacts", params=params, headers=alice.auth)).json()
        for item in listed["items"]:
            detail = (await client.get(f"/api/contacts/{item['id']}", headers=alice.auth)).json()
            assert item["company"] == detail["company"], params
    ada = (await client.get("/api/contacts?q=ada", headers=alice.auth)).json()["items"][0]
    assert ada["company"]["domain"] == "acme.test"


async def test_list__search_filters_sorts_and_pages(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    assert await _names(client, alice, q="grace") == ["Grace Hopper"]
    assert await _names(client, alice, q="ACME") == ["Ada Lovelace", "Linus Torvalds"]  # company
    assert await _names(client, alice, q="linus@") == ["Linus Torvalds"]  # address
    assert await _names(client, alice, q="100%_") == []  # wildcards are literal
    assert await _names(client, alice, level="strong") == ["Grace Hopper"]
    assert await _names(client, alice, level="no connection") == ["Pat Colleague"]
    assert await _names(client, alice, going_cold="true") == ["Grace Hopper"]
    assert await _names(client, alice, internal="true") == ["Pat Colleague"]
    assert await _names(client, alice, company_id=seeded.companies["globex"]) == ["Grace Hopper"]
    assert await _names(client, alice, sort="name") == [
        "Ada Lovelace",
        "Grace Hopper",
        "Linus Torvalds",
        "Pat Colleague",
    ]
    # by the last interaction the list shows (the figures'): Pat, never scored, shows "never"
    # and comes last although his links are recent (QA report item 6)
    by_recent = await _names(client, alice, sort="last_interaction")
    assert by_recent[0] == "Ada Lovelace" and by_recent[-1] == "Pat Colleague"
    first = (await client.get("/api/contacts?limit=3", headers=alice.auth)).json()
    assert first["next_offset"] == 3 and len(first["items"]) == 3 and first["total"] == 4
    last = (await client.get("/api/contacts?limit=3&offset=3", headers=alice.auth)).json()
    assert [c["name"] for c in last["items"]] == ["Pat Colleague"] and last["next_offset"] is None
    past = (await client.get("/api/contacts?limit=3&offset=30", headers=alice.auth)).json()
    assert past["items"] == [] and past["total"] == 4


async def test_list__every_sort_pages_past_the_scored_and_counts_exactly(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    everyone = ["Ada Lovelace", "Grace Hopper", "Linus Torvalds", "Pat Colleague"]
    for sort in ("strength", "last_interaction", "name"):
        whole = await _names(client, alice, sort=sort)
        pages = [await _names(client, alice, sort=sort, limit=1, offset=i) for i in range(4)]
        assert sorted(whole) == everyone and [n for page in pages for n in page] == whole, sort
        full = (await client.get(f"/api/contacts?sort={sort}&limit=2", headers=alice.auth)).json()
        assert full["total"] == 4 and full["next_offset"] == 2, sort
    for filters, total in (
        ("level=very%20strong", 1),
        ("level=no%20connection", 1),
        ("going_cold=false", 3),
        ("going_cold=true&internal=false", 1),
        (f"company_id={seeded.companies['acme']}", 2),
    ):  # a full page: the total is counted
        url = f"/api/contacts?{filters}&limit=1"
        assert (await client.get(url, headers=alice.auth)).json()["total"] == total, filters
    # A search sorts its matches like the lists do, and knows its total past the end.
    assert await _names(client, alice, q="acme.test", sort="name") == [
        "Ada Lovelace",
        "Linus Torvalds",
    ]
    assert await _names(client, alice, q="o", level="no connection") == ["Pat Colleague"]
    past = (await client.get("/api/contacts?q=acme&offset=5", headers=alice.auth)).json()
    assert past["items"] == [] and past["total"] == 2
    one = (await client.get("/api/contacts?q=ACME&limit=1&offset=1", headers=alice.auth)).json()
    assert [c["name"] for c in one["items"]] == ["Linus Torvalds"] and one["total"] == 2
    assert await _names(client, alice, q="a", level="strong", going_cold="true") == [
        "Grace Hopper"
    ]  # shorter than a trigram: a plain scan
    # Every word, in any order, in the name, the company or an address.
    assert await _names(client, alice, q="Lovelace Ada", sort="name") == ["Ada Lovelace"]
    assert await _names(client, alice, q="ada acme", sort="name") == ["Ada Lovelace"]
    assert await _names(client, alice, q="Lovelace Grace", sort="name") == []
    exported = await client.get(
        "/api/contacts/export?filter=lovelace%20ada&format=csv", headers=alice.auth
    )
    assert exported.status_code == 200 and "Ada Lovelace" in exported.text
    assert "Grace Hopper" not in exported.text


async def test_list__search_ignores_accents_both_ways_and_the_export_agrees(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: "jose" did not find José, nor "muller" Müller. Names, company names and addresses
    are compared folded (case and accents, crm.fold), the search's words too."""
    people = {
        "jose.muller@sg-bank.fr": "José Müller",
        "jose.garcia@garcia.example": "Jose Garcia",
        "zoe@aero.example": "Zoë Ærøskøbing",
        "lukasz@lodz.example": "Łukasz Wróbel",
        "rene@descartes.example": "Rene\u0301 Descartes",  # decomposed, as some mailers write it
    }
    for address, name in people.items():
        made = await client.post(
            "/api/contacts", json={"address": address, "name": name}, headers=alice.auth
        )
        assert made.status_code == 201, made.text
    async with pool.connection() as conn:
        renamed = await conn.execute(
            "UPDATE crm.companies SET name = 'Société Générale' WHERE domain = 'sg-bank.fr'"
        )
    assert renamed.rowcount == 1
    both = ["Jose Garcia", "José Müller"]
    assert sorted(await _names(client, alice, q="jose")) == both
    assert sorted(await _names(client, alice, q="JOSÉ")) == both
    assert await _names(client, alice, q="muller") == ["José Müller"]
    assert await _names(client, alice, q="Müller josé") == ["José Müller"]
    assert await _names(client, alice, q="garcía") == ["Jose Garcia"]
    assert await _names(client, alice, q="aeroskobing zoe") == ["Zoë Ærøskøbing"]
    assert await _names(client, alice, q="lukasz wrobel") == ["Łukasz Wróbel"]
    assert await _names(client, alice, q="generale jose") == ["José Müller"]  # the company
    assert await _names(client, alice, q="mü") == ["José Müller"]  # no trigram: a plain scan
    assert await _names(client, alice, q="rené") == ["Rene\u0301 Descartes"]
    exported = await client.get(
        "/api/contacts/export", params={"filter": "societe muller"}, headers=alice.auth
    )
    assert exported.status_code == 200 and "José Müller" in exported.text
    assert "Jose Garcia" not in exported.text


async def test_list__bad_input_is_a_422_with_a_reason(
    client: httpx.AsyncClient, alice: User
) -> None:
    for query in (
        "level=best",
        "sort=age",
        "limit=0",
        "limit=201",
        "offset=-1",
        "company_id=0",
        "q=" + "x" * 201,
        "going_cold=maybe",
    ):
        response = await client.get(f"/api/contacts?{query}", headers=alice.auth)
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "validation_error"
    assert (await client.get("/api/contacts")).status_code == 401


async def test_detail__evidence_stats_summary_facts_resolved(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = (await client.get(f"/api/contacts/{seeded.contacts['ada']}", headers=alice.auth)).json()
    assert ada["addresses"] == [
        {"address": "ada@acme.test", "is_primary": True, "undeliverable": False, "sent_for_you": 0}
    ]
    relationship = ada["relationship"]
    assert relationship["score"] == 85.4 and relationship["level"] == "very strong"
    first, second = relationship["evidence"]
    assert [m["subject"] for m in first["messages"]] == [
        "Re: Analytical engine plan",
        "Notes on Bernoulli numbers",
    ]
    assert all(m["found"] for m in first["messages"])
    assert second["messages"][1] == {
        "id": 999999999,
        "subject": None,
        "date": None,
        "from_address": None,
        "found": False,
    }  # kept, marked gone
    stats = relationship["stats"]
    assert stats["sent"] == 6 and stats["two_way_threads"] == 2
    assert stats["median_reply_sent_seconds"] == 5400
    assert [m["month"] for m in stats["monthly"]] == ["2025-11", "2026-01", "2026-02"]
    summary = ada["summary"]
    assert summary["ai_generated"] is False and summary["open_loops"] == [
        "Send the Bernoulli notes back"
    ]
    assert [c["subject"] for c in summary["citations"]] == [
        "Analytical engine plan",
        "Notes on Bernoulli numbers",
    ]
    [fact] = ada["facts"]
    assert fact["value"] == "Chief Engineer" and fact["source"] == "signature"
    assert fact["source_message"]["id"] == seeded.messages["plan"]
    assert fact["source_message"]["subject"] == "Analytical engine plan"
    grace = (
        await client.get(f"/api/contacts/{seeded.contacts['grace']}", headers=alice.auth)
    ).json()
    assert grace["summary"]["ai_generated"] is True and grace["summary"]["next_step"] is None
    assert grace["introduction"]["introducer_name"] == "Ada Lovelace"
    assert grace["introduction"]["message"]["subject"] == "Compiler demo"
    pat = (
        await client.get(f"/api/contacts/{seeded.contacts['colleague']}", headers=alice.auth)
    ).json()
    assert pat["relationship"] is None and pat["summary"] is None and pat["merges"] == []


async def test_timeline__newest_first_with_direction_and_pages(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    url = f"/api/contacts/{seeded.contacts['ada']}/timeline"
    body = (await client.get(url, headers=alice.auth)).json()
    assert [(t["subject"], t["direction"]) for t in body["items"]] == [
        ("Notes on Bernoulli numbers", "received"),
        ("Re: Analytical engine plan", "sent"),
        ("Analytical engine plan", "received"),
    ]
    assert body["total"] == 3
    page = (await client.get(f"{url}?limit=2&offset=2", headers=alice.auth)).json()
    assert [t["message_id"] for t in page["items"]] == [seeded.messages["plan"]] and page[
        "next_offset"
    ] is None
    past = (await client.get(f"{url}?offset=10", headers=alice.auth)).json()
    assert past["items"] == [] and past["total"] == 3
    assert (
        await client.get("/api/contacts/999999/timeline", headers=alice.auth)
    ).status_code == 404


async def test_merge_and_undo(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    merged = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": linus}, headers=alice.auth
    )
    assert merged.status_code == 200, merged.text
    merge_id = merged.json()["merge_id"]
    assert merged.json()["addresses"] == ["linus@acme.test"]
    assert "Linus Torvalds" not in await _names(client, alice)
    detail = (await client.get(f"/api/contacts/{ada}", headers=alice.auth)).json()
    assert {a["address"] for a in detail["addresses"]} == {"ada@acme.test", "linus@acme.test"}
    assert detail["merges"][0]["other_label"] == "Linus Torvalds"
    again = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": linus}, headers=alice.auth
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    undone = await client.post(f"/api/contacts/merges/{merge_id}/undo", headers=alice.auth)
    assert undone.json() == {"merge_id": merge_id, "undone": True}
    assert "Linus Torvalds" in await _names(client, alice)
    twice = await client.post(f"/api/contacts/merges/{merge_id}/undo", headers=alice.auth)
    assert twice.status_code == 409
    for body in ({"other_contact_id": ada}, {"other_contact_id": 999999}, {"other": 1}, {}):
        response = await client.post(f"/api/contacts/{ada}/merge", json=body, headers=alice.auth)
        assert response.status_code in (404, 409, 422), body
        assert "error" in response.json()


async def test_merge_and_undo__ask_for_an_analysis_of_the_user(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]

    async def queued() -> list[object]:
        found = await jobs.find_jobs(name=analyze_relationships.QUEUE)
        return [(job.data, job.state.value) for job in found]

    refused = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": ada}, headers=alice.auth
    )
    assert refused.status_code == 409 and await queued() == []  # rolled back with the merge
    merged = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": linus}, headers=alice.auth
    )
    assert merged.status_code == 200
    [job] = await jobs.find_jobs(name=analyze_relationships.QUEUE)
    assert job.data == {"user_id": alice.account.id} and job.state.value == "created"
    assert job.start_after is not None and job.start_after <= job.created_on
    await jobs.cancel_matching(name=analyze_relationships.QUEUE)
    undone = await client.post(
        f"/api/contacts/merges/{merged.json()['merge_id']}/undo", headers=alice.auth
    )
    assert undone.status_code == 200
    assert sorted(await queued(), key=str) == [
        ({"user_id": alice.account.id}, "cancelled"),
        ({"user_id": alice.account.id}, "created"),
    ]


async def test_merge__without_a_queue_only_merges(
    alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    result = await contacts_service.merge(
        pool,
        alice.account.id,
        into_id=seeded.contacts["ada"],
        from_id=seeded.contacts["linus"],
        actor="test",
    )
    assert result.addresses == ("linus@acme.test",)
    assert await jobs.find_jobs(name=analyze_relationships.QUEUE) == []


async def test_home__every_user_lands_on_contacts(
    make_client: Callable[[], httpx.AsyncClient], alice: User, admin: User
) -> None:
    for user in (alice, admin):
        http = make_client()
        await login(http, user.account.email)
        home = await http.get("/", headers=HTML)
        assert home.status_code == 303 and home.headers["location"] == "/contacts"
        nav = (await http.get("/contacts", headers=HTML)).text
        assert ('href="/jobs"' in nav) is user.account.is_admin  # admins reach jobs from the nav


async def test_message__headers_and_body(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    body = (await client.get(f"/api/messages/{seeded.messages['plan']}", headers=alice.auth)).json()
    assert body["subject"] == "Analytical engine plan" and body["from_address"] == "ada@acme.test"
    assert [(p["role"], p["contact_id"]) for p in body["participants"]] == [
        ("from", seeded.contacts["ada"]),
        ("to", None),
    ]
    assert "<b>plan</b>" in body["body_text"]
    assert (await client.get("/api/messages/999999", headers=alice.auth)).status_code == 404


async def test_pages__list_contact_message_and_merge_form(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await login(client, "alice@example.com")
    listing = await client.get("/contacts", headers=HTML)
    assert listing.status_code == 200
    text = listing.text
    assert text.index("Ada Lovelace") < text.index("Grace Hopper") < text.index("Linus Torvalds")
    assert "Going cold" in text and "Very strong" in text and 'aria-current="page">Contacts' in text
    live = await client.get("/contacts/table?q=grace", headers={"HX-Request": "true"})
    assert "Grace Hopper" in live.text and "Ada Lovelace" not in live.text
    assert live.headers["HX-Push-Url"] == "/contacts?q=grace"
    assert (await client.get("/contacts?level=best", headers=HTML)).status_code == 400
    page = await client.get(f"/contacts/{seeded.contacts['ada']}", headers=HTML)
    for expected in (
        "Why this score",
        "Not AI-generated",
        "Notes on Bernoulli numbers",
        "Chief Engineer",
        f'href="/messages/{seeded.messages["notes"]}"',
        "<svg",
        "Timeline",
    ):
        assert expected in page.text, expected
    message = await client.get(f"/messages/{seeded.messages['plan']}", headers=HTML)
    assert "&lt;b&gt;plan&lt;/b&gt;" in message.text and "<b>plan</b>" not in message.text
    csrf = session_csrf(page.text)
    found = await client.get(f"/contacts/{seeded.contacts['ada']}/merge-candidates?q=linus")
    assert "Merge Linus Torvalds into this contact" in found.text
    merged = await client.post(
        f"/contacts/{seeded.contacts['ada']}/merge",
        data={"other_contact_id": seeded.contacts["linus"], "csrf_token": csrf},
    )
    assert merged.status_code == 303
    after = await client.get(merged.headers["location"], headers=HTML)
    assert "now belong here" in after.text and "Undo" in after.text
    assert (await client.get("/contacts/999999", headers=HTML)).status_code == 404


async def test_page__a_gravatar_url_is_not_shown_as_a_fact(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """The page shows initials; it never loads or lists the Gravatar URL (the API keeps it)."""
    seeded = await seed_crm(pool, alice.account.id)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.contact_facts (contact_id, field, value, source, confidence,"
            " observed_on) VALUES (%s, 'gravatar', 'https://gravatar.com/avatar/ab12?d=404',"
            " 'gravatar', 0.3, now())",
            (seeded.contacts["ada"],),
        )
    await login(client, "alice@example.com")
    page = await client.get(f"/contacts/{seeded.contacts['ada']}", headers=HTML)
    assert "Chief Engineer" in page.text and '<span class="avatar avatar-lg"' in page.text
    assert "gravatar" not in page.text.lower()
    detail = await client.get(f"/api/contacts/{seeded.contacts['ada']}", headers=alice.auth)
    assert "gravatar" in {fact["field"] for fact in detail.json()["facts"]}


async def test_pages__empty_state_says_connect_a_mailbox(
    client: httpx.AsyncClient, alice: User
) -> None:
    await login(client, "alice@example.com")
    text = (await client.get("/contacts", headers=HTML)).text
    assert (
        "No contacts yet" in text and "Connect a mailbox" in text and 'href="/connections"' in text
    )
    companies = (await client.get("/companies", headers=HTML)).text
    assert "No companies yet" in companies
