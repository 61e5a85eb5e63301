"""Corrections by hand over the API: rename, company, title and phone (the user's value wins
and later extraction keeps it), hide and not-a-person, a contact made by hand, export, company
edit and merge with undo, merge previews; bad input refused with nothing written."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import NOW, seed_crm

HTML = {"accept": "text/html"}


async def _contact(client: httpx.AsyncClient, user: User, contact_id: int) -> dict:
    response = await client.get(f"/api/contacts/{contact_id}", headers=user.auth)
    assert response.status_code == 200, response.text
    return response.json()


def _current(detail: dict, field: str) -> list[tuple[str, str]]:
    return [
        (f["value"], f["source"])
        for f in detail["facts"]
        if f["field"] == field and f["is_current"]
    ]


async def test_edit_contact__your_values_win_and_extraction_keeps_them(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    async with pool.connection() as conn:  # a summary made under her old name
        await conn.execute(
            "INSERT INTO crm.relationship_summaries (user_id, contact_id, status, generated_by,"
            " prompt_version, summary, last_message_at) VALUES (%s, %s, 'ok', 'offline', 'v1',"
            ' \'{"who": "Ada Lovelace"}\', now())'
            " ON CONFLICT (user_id, contact_id) DO UPDATE SET last_message_at = now()",
            (alice.account.id, ada),
        )
    patch = {
        "name": "Augusta Ada King",
        "company_domain": "globex.example",
        "title": "Countess",
        "phone": "+44 20 7946 0000",
    }
    response = await client.patch(f"/api/contacts/{ada}", json=patch, headers=alice.auth)
    assert response.status_code == 204, response.text
    detail = await _contact(client, alice, ada)
    assert detail["name"] == "Augusta Ada King"
    async with pool.connection() as conn:  # no longer current: the next one is made anew
        stale = await conn.execute(
            "SELECT last_message_at FROM crm.relationship_summaries WHERE contact_id = %s", (ada,)
        )
        assert await stale.fetchone() == (None,)
    assert detail["company"]["id"] == seeded.companies["globex"]
    assert _current(detail, "title") == [("Countess", "you")]
    assert _current(detail, "phone") == [("+44 20 7946 0000", "you")]

    # Later extraction finds other values: the user's stay current, their name stays.
    async with pool.connection() as conn, conn.transaction():
        facts = [
            contacts_repo.Fact(
                field=field,
                value=value,
                kind="",
                source="signature",
                source_message_id=None,
                confidence=0.9,
                observed_on=NOW + timedelta(days=1),
            )
            for field, value in (("title", "Chief Engineer"), ("phone", "+1 555 0100"))
        ]
        await contacts_repo.save_facts(conn, ada, facts)
        await contacts_service.refresh_names(conn, [ada], NOW + timedelta(days=1))
    detail = await _contact(client, alice, ada)
    assert detail["name"] == "Augusta Ada King"
    assert _current(detail, "title") == [("Countess", "you")]
    assert _current(detail, "phone") == [("+44 20 7946 0000", "you")]

    # Clearing the title hides every extracted one too.
    cleared = await client.patch(f"/api/contacts/{ada}", json={"title": None}, headers=alice.auth)
    assert cleared.status_code == 204
    assert _current(await _contact(client, alice, ada), "title") == [("", "you")]
    no_company = await client.patch(
        f"/api/contacts/{ada}", json={"company_id": None}, headers=alice.auth
    )
    assert no_company.status_code == 204
    assert (await _contact(client, alice, ada))["company"] is None
    actions = [
        (e["action"], e["detail"].get("field"))
        for e in (await client.get(f"/api/contacts/{ada}/activity", headers=alice.auth)).json()
    ]
    assert actions[:2] == [("contact.edited", "company"), ("contact.edited", "title")]
    assert ("contact.edited", "name") in actions and ("contact.edited", "phone") in actions


async def test_edit_contact__bad_input_changes_nothing(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    ada = seeded.contacts["ada"]
    before = await _contact(client, alice, ada)
    bad = [
        ({"name": "Ada", "phone": "call me"}, 400),  # the good name is not saved either
        ({"name": "Ada", "company_domain": "not a domain"}, 400),
        ({"name": "Ada", "company_id": bobs.companies["acme"]}, 404),
        ({"name": ""}, 422),
        ({"nickname": "Ada"}, 422),
    ]
    for body, status in bad:
        response = await client.patch(f"/api/contacts/{ada}", json=body, headers=alice.auth)
        assert response.status_code == status, (body, response.text)
    assert await _contact(client, alice, ada) == before
    assert (await client.get(f"/api/contacts/{ada}/activity", headers=alice.auth)).json() == []


async def test_hide_not_a_person_and_create_by_hand(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, grace = seeded.contacts["ada"], seeded.contacts["grace"]
    hidden = await client.post(
        "/api/contacts/visibility",
        json={"contact_ids": [ada, grace], "state": "hidden"},
        headers=alice.auth,
    )
    assert hidden.json() == {"changed": sorted([ada, grace])}
    bot = await client.post(
        f"/api/contacts/{seeded.contacts['linus']}/visibility",
        json={"state": "not_person"},
        headers=alice.auth,
    )
    assert bot.status_code == 200
    listed = (await client.get("/api/contacts", headers=alice.auth)).json()["items"]
    assert [c["name"] for c in listed] == ["Pat Colleague"]
    shown = await client.post(
        f"/api/contacts/{ada}/visibility", json={"state": "shown"}, headers=alice.auth
    )
    assert shown.json() == {"changed": [ada]}
    # The user's own address is never shown by hand.
    robot = seeded.contacts["robot"]
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.contacts SET suppressed_reason = 'self' WHERE id = %s", (robot,)
        )
    refused = await client.post(
        f"/api/contacts/{robot}/visibility", json={"state": "shown"}, headers=alice.auth
    )
    assert refused.status_code == 400

    made = await client.post(
        "/api/contacts",
        json={"address": " Maya@Newco.IO ", "name": "Maya  Patel"},
        headers=alice.auth,
    )
    assert made.status_code == 201, made.text
    maya = await _contact(client, alice, made.json()["id"])
    assert maya["primary_address"] == "maya@newco.io" and maya["name"] == "Maya Patel"
    assert maya["company"]["domain"] == "newco.io"
    taken = await client.post(
        "/api/contacts", json={"address": "maya@newco.io"}, headers=alice.auth
    )
    assert taken.status_code == 409
    hide = await client.post(
        f"/api/contacts/{maya['id']}/visibility", json={"state": "hidden"}, headers=alice.auth
    )
    assert hide.status_code in (200, 204), hide.text
    hidden = await client.post(
        "/api/contacts", json={"address": "maya@newco.io"}, headers=alice.auth
    )
    assert hidden.status_code == 409 and "Hidden contacts" in hidden.json()["error"]["message"]
    await client.post(
        f"/api/contacts/{maya['id']}/visibility", json={"state": "shown"}, headers=alice.auth
    )
    me = await client.post(
        "/api/contacts", json={"address": "Alice@Example.com"}, headers=alice.auth
    )
    assert me.status_code == 400 and "your own address" in me.json()["error"]["message"]
    for address in ("not-an-address", "a@b"):
        bad = await client.post("/api/contacts", json={"address": address}, headers=alice.auth)
        assert bad.status_code == 400, bad.text
    # Made by hand, it stays in the list though it has no mail (a recount keeps it).
    async with pool.connection() as conn, conn.transaction():
        await contacts_repo.recompute_counts(conn, [maya["id"]], NOW)
    names = [
        c["name"] for c in (await client.get("/api/contacts", headers=alice.auth)).json()["items"]
    ]
    assert "Maya Patel" in names


async def test_export_csv__selection_with_formula_cells_defused(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    ada, grace = seeded.contacts["ada"], seeded.contacts["grace"]
    await client.patch(f"/api/contacts/{ada}", json={"title": "=HYPERLINK(1)"}, headers=alice.auth)
    response = await client.post(
        "/api/contacts/export", json={"contact_ids": [grace, ada]}, headers=alice.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["email"] for r in rows] == ["ada@acme.test", "grace@globex.example"]
    assert rows[0]["title"] == "'=HYPERLINK(1)" and rows[0]["company"] == "Acme Corp"
    mixed = await client.post(
        "/api/contacts/export",
        json={"contact_ids": [ada, bobs.contacts["ada"]]},
        headers=alice.auth,
    )
    assert mixed.status_code == 404


async def test_company_edit_merge_preview_and_undo(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    acme, globex = seeded.companies["acme"], seeded.companies["globex"]
    edit = await client.patch(
        f"/api/companies/{acme}",
        json={"name": "Acme Industries", "website": "https://acme.test"},
        headers=alice.auth,
    )
    assert edit.status_code == 204, edit.text
    assert (await client.get(f"/api/companies/{acme}", headers=alice.auth)).json()["name"] == (
        "Acme Industries"
    )
    for body in ({"name": " "}, {"website": "javascript:alert(1)"}):
        bad = await client.patch(f"/api/companies/{acme}", json=body, headers=alice.auth)
        assert bad.status_code == 400, bad.text

    preview = await client.post(
        f"/api/companies/{acme}/merge/preview",
        json={"other_company_id": globex},
        headers=alice.auth,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["into"]["name"] == "Acme Industries"
    assert preview.json()["other"]["name"] == "Globex"
    assert preview.json()["people"] == ["Grace Hopper"]
    for side, company in (("into", acme), ("other", globex)):  # as the company's own page
        detail = (await client.get(f"/api/companies/{company}", headers=alice.auth)).json()
        assert preview.json()[side]["people"] == detail["rollup"]["people"] > 0
    merged = await client.post(
        f"/api/companies/{acme}/merge", json={"other_company_id": globex}, headers=alice.auth
    )
    assert merged.status_code == 200, merged.text
    merge = merged.json()
    assert merge["contact_ids"] == [seeded.contacts["grace"]]
    grace = await _contact(client, alice, seeded.contacts["grace"])
    assert grace["company"]["id"] == acme
    companies = (await client.get("/api/companies", headers=alice.auth)).json()["items"]
    assert [c["id"] for c in companies] == [acme]
    # New mail from globex.example joins Acme now.
    async with pool.connection() as conn, conn.transaction():
        found = await contacts_repo.ensure_companies(
            conn, alice.account.id, {"globex.example": "Globex"}, NOW
        )
    assert found == {"globex.example": acme}
    twice = await client.post(
        f"/api/companies/{acme}/merge", json={"other_company_id": globex}, headers=alice.auth
    )
    assert twice.status_code == 409
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "INSERT INTO crm.companies (user_id, domain, name) VALUES (%s, 'third.test',"
                " 'Third') RETURNING id",
                (alice.account.id,),
            )
        ).fetchone()
    chained = await client.post(  # Acme absorbed Globex: it is merged into, not away
        f"/api/companies/{row[0]}/merge", json={"other_company_id": acme}, headers=alice.auth
    )
    assert chained.status_code == 409 and "merge into it instead" in chained.text
    undo = await client.post(f"/api/companies/merges/{merge['merge_id']}/undo", headers=alice.auth)
    assert undo.status_code == 200, undo.text
    grace = await _contact(client, alice, seeded.contacts["grace"])
    assert grace["company"]["id"] == globex
    again = await client.post(f"/api/companies/merges/{merge['merge_id']}/undo", headers=alice.auth)
    assert again.status_code == 409
    actions = [
        e["action"]
        for e in (await client.get(f"/api/companies/{globex}/activity", headers=alice.auth)).json()
    ]
    assert actions == ["company.unmerged", "company.merged"]


async def test_contact_merge_preview_shows_what_moves_and_changes_nothing(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    preview = await client.post(
        f"/api/contacts/{ada}/merge/preview", json={"other_contact_id": linus}, headers=alice.auth
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["into"]["label"] == "Ada Lovelace" and body["other"]["label"] == "Linus Torvalds"
    assert body["addresses"] == ["linus@acme.test"] and body["messages"] == 2
    assert (await _contact(client, alice, linus))["merged_into_id"] is None
    itself = await client.post(
        f"/api/contacts/{ada}/merge/preview", json={"other_contact_id": ada}, headers=alice.auth
    )
    assert itself.status_code == 409


async def _names_of(client: httpx.AsyncClient, user: User, path: str, field: str) -> list[str]:
    response = await client.get(path, headers=user.auth)
    assert response.status_code == 200, response.text
    return sorted(item[field] for item in response.json())


async def test_company_merge__carries_notes_and_tags_and_undo_gives_them_back(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: merging Globex into Acme left Globex's notes and tags on the company the merge
    hides: Acme's page showed none of them, and ?tag=Partner no longer found Globex or Acme.
    They move now, as a contact merge's do, the preview says so, and the undo gives back
    exactly what moved."""
    seeded = await seed_crm(pool, alice.account.id)
    acme, globex = seeded.companies["acme"], seeded.companies["globex"]
    h = alice.auth
    tags = {
        n: (await client.post("/api/tags", json={"name": n}, headers=h)).json()["id"]
        for n in ("Customer", "Partner", "Renewal")
    }
    for company, names in ((acme, ("Customer", "Renewal")), (globex, ("Partner", "Renewal"))):
        for name in names:
            put = await client.put(f"/api/companies/{company}/tags/{tags[name]}", headers=h)
            assert put.status_code == 200, put.text
    for company, body in ((acme, "Acme's own"), (globex, "Globex one"), (globex, "Globex two")):
        made = await client.post(f"/api/companies/{company}/notes", json={"body": body}, headers=h)
        assert made.status_code == 201, made.text
    preview = await client.post(
        f"/api/companies/{acme}/merge/preview", json={"other_company_id": globex}, headers=h
    )
    assert preview.json()["notes"] == 2 and preview.json()["tags"] == ["Partner", "Renewal"]
    await login(client, "alice@example.com")
    page = await client.get(
        f"/companies/{acme}/merge", params={"domain": "globex.example"}, headers=HTML
    )
    assert "2 notes and the tags Partner, Renewal of Globex move to Acme Corp" in page.text
    assert "stay on its page" not in page.text
    contact_page = await client.get(
        f"/contacts/{seeded.contacts['ada']}/merge",
        params={"other_contact_id": seeded.contacts["linus"]},
        headers=HTML,
    )
    assert "notes, tags and places on your lists come too" in contact_page.text

    merged = await client.post(
        f"/api/companies/{acme}/merge", json={"other_company_id": globex}, headers=h
    )
    assert merged.status_code == 200, merged.text
    notes_path, tags_path = f"/api/companies/{acme}/notes", f"/api/companies/{acme}/tags"
    assert await _names_of(client, alice, notes_path, "body") == [
        "Acme's own", "Globex one", "Globex two"
    ]  # fmt: skip
    assert await _names_of(client, alice, tags_path, "name") == ["Customer", "Partner", "Renewal"]
    tagged = await client.get("/api/companies", params={"tag": tags["Partner"]}, headers=h)
    assert [c["id"] for c in tagged.json()["items"]] == [acme]
    assert await _names_of(client, alice, f"/api/companies/{globex}/notes", "body") == []

    # Later changes stay: a note written on Acme after the merge, a moved tag taken off.
    await client.post(notes_path, json={"body": "After the merge"}, headers=h)
    await client.delete(f"/api/companies/{acme}/tags/{tags['Partner']}", headers=h)
    undo = await client.post(f"/api/companies/merges/{merged.json()['merge_id']}/undo", headers=h)
    assert undo.status_code == 200, undo.text
    assert await _names_of(client, alice, notes_path, "body") == ["Acme's own", "After the merge"]
    assert await _names_of(client, alice, tags_path, "name") == ["Customer", "Renewal"]
    assert await _names_of(client, alice, f"/api/companies/{globex}/notes", "body") == [
        "Globex one", "Globex two"
    ]  # fmt: skip
    assert await _names_of(client, alice, f"/api/companies/{globex}/tags", "name") == [
        "Partner", "Renewal"
    ]  # fmt: skip
