"""Notes, tags and the activity log over the API: writing, mentioning, editing and deleting
notes; the workspace's tags; tagging one contact, a company, or many contacts at once; the
list filtered by tag; every change logged; bad input refused with nothing written."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import notes as notes_service
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import NOW, seed_crm

HTML = {"accept": "text/html"}


async def _count(pool: AsyncConnectionPool, table: str) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(f"SELECT count(*) FROM crm.{table}")).fetchone()
    assert row is not None
    return row[0]


async def _activity(client: httpx.AsyncClient, user: User, contact_id: int) -> list[str]:
    response = await client.get(f"/api/contacts/{contact_id}/activity", headers=user.auth)
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()]


async def test_notes__write_mention_edit_delete_each_logged(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, grace = seeded.contacts["ada"], seeded.contacts["grace"]
    made = await client.post(
        f"/api/contacts/{ada}/notes",
        json={"body": "Met at the *conference*; ask @Grace about the intro. Mail me@x.test"},
        headers=alice.auth,
    )
    assert made.status_code == 201, made.text
    note = made.json()
    assert note["contact_id"] == ada and note["author_id"] == alice.account.id
    assert note["author"] and note["created_on"] == note["updated_on"]
    assert note["mentions"] == [{"id": grace, "label": "Grace Hopper"}]
    # The note shows on both contacts.
    for contact_id in (ada, grace):
        listed = (await client.get(f"/api/contacts/{contact_id}/notes", headers=alice.auth)).json()
        assert [n["id"] for n in listed] == [note["id"]]

    edited = await client.patch(
        f"/api/notes/{note['id']}", json={"body": "No mention any more"}, headers=alice.auth
    )
    assert edited.status_code == 200 and edited.json()["body"] == "No mention any more"
    assert edited.json()["mentions"] == [] and edited.json()["updated_on"] >= note["created_on"]
    assert (await client.get(f"/api/contacts/{grace}/notes", headers=alice.auth)).json() == []

    gone = await client.delete(f"/api/notes/{note['id']}", headers=alice.auth)
    assert gone.status_code == 204
    assert (await client.get(f"/api/notes/{note['id']}", headers=alice.auth)).status_code == 404
    assert await _activity(client, alice, ada) == ["note.deleted", "note.edited", "note.added"]


async def test_notes__an_ambiguous_mention_links_nobody(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.contacts SET name = 'Ada Byron' WHERE id = %s", (seeded.contacts["linus"],)
        )
    made = await client.post(
        f"/api/contacts/{seeded.contacts['grace']}/notes",
        json={"body": "@Ada, which one? ada@acme.test is not a mention"},
        headers=alice.auth,
    )
    assert made.status_code == 201 and made.json()["mentions"] == []


async def test_notes__bad_input_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    url = f"/api/contacts/{seeded.contacts['ada']}/notes"
    for body in (
        {"body": ""},
        {"body": "   \n"},
        {"body": "x" * 100_001},
        {"body": "é" * 50_001},
        {},
    ):
        response = await client.post(url, json=body, headers=alice.auth)
        assert response.status_code == 422, (len(str(body)), response.text)
        assert response.json()["error"]["code"] == "validation_error"
    big = await client.post(url, json={"body": "x" * 100_000}, headers=alice.auth)
    assert big.status_code == 201
    note_id = big.json()["id"]
    too_big = await client.patch(
        f"/api/notes/{note_id}", json={"body": "y" * 100_001}, headers=alice.auth
    )
    assert too_big.status_code == 422
    kept = (await client.get(f"/api/notes/{note_id}", headers=alice.auth)).json()
    assert kept["body"] == "x" * 100_000
    assert await _count(pool, "notes") == 1 and await _count(pool, "activity") == 1


async def test_company_notes_and_tags(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    acme = seeded.companies["acme"]
    made = await client.post(
        f"/api/companies/{acme}/notes", json={"body": "Renewal in **May**"}, headers=alice.auth
    )
    assert made.status_code == 201 and made.json()["company_id"] == acme
    listed = (await client.get(f"/api/companies/{acme}/notes", headers=alice.auth)).json()
    assert [n["body"] for n in listed] == ["Renewal in **May**"]
    tag = (await client.post("/api/tags", json={"name": "Customer"}, headers=alice.auth)).json()
    assert tag["colour"] == "grey"
    put = await client.put(f"/api/companies/{acme}/tags/{tag['id']}", headers=alice.auth)
    assert [t["name"] for t in put.json()] == ["Customer"]
    taken = await client.delete(f"/api/companies/{acme}/tags/{tag['id']}", headers=alice.auth)
    assert taken.json() == []
    log = (await client.get(f"/api/companies/{acme}/activity", headers=alice.auth)).json()
    assert [e["action"] for e in log] == ["tag.removed", "tag.added", "note.added"]


async def test_tags__create_rename_and_refuse_bad_names(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    made = await client.post(
        "/api/tags", json={"name": "Investor", "colour": "blue"}, headers=alice.auth
    )
    assert made.status_code == 201 and made.json()["colour"] == "blue"
    tag_id = made.json()["id"]
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 41},
        {"name": "ok", "colour": "#ff0000"},
        {"name": "tab\there"},
    ):
        response = await client.post("/api/tags", json=body, headers=alice.auth)
        assert response.status_code == 422, body
    dup = await client.post("/api/tags", json={"name": "investor"}, headers=alice.auth)
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"
    other = (await client.post("/api/tags", json={"name": "Friend"}, headers=alice.auth)).json()
    clash = await client.patch(
        f"/api/tags/{other['id']}", json={"name": "INVESTOR"}, headers=alice.auth
    )
    assert clash.status_code == 409
    renamed = await client.patch(
        f"/api/tags/{tag_id}",
        json={"name": "  Angel   investor ", "colour": "green"},
        headers=alice.auth,
    )
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["colour"]) == ("Angel investor", "green")
    names = [t["name"] for t in (await client.get("/api/tags", headers=alice.auth)).json()]
    assert names == ["Angel investor", "Friend"]
    assert await _count(pool, "tags") == 2


async def test_tags__bulk_tag_filter_untag_all_or_nothing(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    people = [seeded.contacts[n] for n in ("ada", "grace", "linus")]
    tag = (
        await client.post("/api/tags", json={"name": "VIP", "colour": "red"}, headers=alice.auth)
    ).json()
    done = await client.post(
        "/api/contacts/bulk",
        json={"action": "tag", "tag_id": tag["id"], "contact_ids": people},
        headers=alice.auth,
    )
    assert done.status_code == 200, done.text
    assert done.json()["changed"] == sorted(people) and done.json()["unchanged"] == []
    assert done.json()["tag"]["contacts"] == 3  # the answer counts what it just did
    renamed = await client.patch(
        f"/api/tags/{tag['id']}", json={"name": "VIPs"}, headers=alice.auth
    )
    assert renamed.json()["contacts"] == 3
    await client.patch(f"/api/tags/{tag['id']}", json={"name": "VIP"}, headers=alice.auth)
    listed = (await client.get(f"/api/contacts?tag={tag['id']}", headers=alice.auth)).json()
    assert listed["total"] == 3 and {c["id"] for c in listed["items"]} == set(people)
    assert all(c["tags"][0]["name"] == "VIP" for c in listed["items"])
    for sort in ("name", "last_interaction"):
        by = await client.get(f"/api/contacts?tag={tag['id']}&sort={sort}", headers=alice.auth)
        assert by.json()["total"] == 3
    searched = await client.get(f"/api/contacts?tag={tag['id']}&q=acme", headers=alice.auth)
    assert {c["name"] for c in searched.json()["items"]} == {"Ada Lovelace", "Linus Torvalds"}
    assert (await client.get("/api/tags", headers=alice.auth)).json()[0]["contacts"] == 3

    # One contact that is not Alice's: nothing changes at all.
    before = await _count(pool, "contact_tags"), await _count(pool, "activity")
    refused = await client.post(
        "/api/contacts/bulk",
        json={
            "action": "untag",
            "tag_id": tag["id"],
            "contact_ids": [*people, bobs.contacts["ada"]],
        },
        headers=alice.auth,
    )
    assert refused.status_code == 404
    assert (await _count(pool, "contact_tags"), await _count(pool, "activity")) == before
    bad = await client.post(
        "/api/contacts/bulk",
        json={"action": "delete", "tag_id": tag["id"], "contact_ids": people},
        headers=alice.auth,
    )
    assert bad.status_code == 422
    empty = await client.post(
        "/api/contacts/bulk",
        json={"action": "tag", "tag_id": tag["id"], "contact_ids": []},
        headers=alice.auth,
    )
    assert empty.status_code == 422

    one = await client.delete(f"/api/contacts/{people[0]}/tags/{tag['id']}", headers=alice.auth)
    assert one.status_code == 200 and one.json() == []
    again = await client.put(f"/api/contacts/{people[0]}/tags/{tag['id']}", headers=alice.auth)
    assert [t["name"] for t in again.json()] == ["VIP"]
    assert await _activity(client, alice, people[0]) == ["tag.added", "tag.removed", "tag.added"]
    assert (await client.delete(f"/api/tags/{tag['id']}", headers=alice.auth)).status_code == 204
    assert await _count(pool, "contact_tags") == 0


async def test_activity__merge_and_undo_are_logged_on_both_contacts(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    merged = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": linus}, headers=alice.auth
    )
    merge_id = merged.json()["merge_id"]
    await client.post(f"/api/contacts/merges/{merge_id}/undo", headers=alice.auth)
    assert await _activity(client, alice, ada) == ["contact.unmerged", "contact.merged"]
    log = (await client.get(f"/api/contacts/{linus}/activity", headers=alice.auth)).json()
    assert log[1]["detail"]["other_contact_id"] == ada and log[1]["actor_id"] == alice.account.id


async def test_list__sorted_by_tag_tagged_first_by_tag_name_then_name(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    for name, who in (("zebra", "ada"), ("alpha", "linus"), ("zebra", "grace")):
        tags = {
            t["name"]: t["id"] for t in (await client.get("/api/tags", headers=alice.auth)).json()
        }
        tag_id = (
            tags.get(name)
            or (await client.post("/api/tags", json={"name": name}, headers=alice.auth)).json()[
                "id"
            ]
        )
        put = await client.put(
            f"/api/contacts/{seeded.contacts[who]}/tags/{tag_id}", headers=alice.auth
        )
        assert put.status_code == 200
    expected = ["Linus Torvalds", "Ada Lovelace", "Grace Hopper", "Pat Colleague"]
    listed = await client.get("/api/contacts?sort=tag", headers=alice.auth)
    assert [c["name"] for c in listed.json()["items"]] == expected
    searched = await client.get("/api/contacts?sort=tag&q=a", headers=alice.auth)
    assert [c["name"] for c in searched.json()["items"]] == expected
    paged = await client.get("/api/contacts?sort=tag&limit=2&offset=2", headers=alice.auth)
    assert [c["name"] for c in paged.json()["items"]] == expected[2:]


async def test_timeline__notes_sit_between_the_messages_page_by_page(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]  # messages 20, 19 and 2 days before NOW
    written = {}
    for text, days in (("newest", None), ("between", 10), ("oldest", 90)):
        note = await client.post(
            f"/api/contacts/{ada}/notes", json={"body": text}, headers=alice.auth
        )
        written[text] = note.json()["id"]
        if days is not None:
            async with pool.connection() as conn:
                await conn.execute(
                    "UPDATE crm.notes SET created_on = %s, updated_on = %s WHERE id = %s",
                    (NOW - timedelta(days=days), NOW - timedelta(days=days), written[text]),
                )

    def kinds(page: notes_service.MixedTimeline) -> list[str]:
        return [e.note.body if e.note else f"message {e.message.message_id}" for e in page.entries]  # type: ignore[union-attr]

    whole = await notes_service.contact_timeline(pool, alice.account.id, ada, limit=20, offset=0)
    msgs = [f"message {seeded.messages[m]}" for m in ("notes", "reply", "plan")]
    assert kinds(whole) == ["newest", msgs[0], "between", msgs[1], msgs[2], "oldest"]
    pages = [
        kinds(await notes_service.contact_timeline(pool, alice.account.id, ada, limit=1, offset=o))
        for o in range(3)
    ]
    assert [entry for page in pages for entry in page] == kinds(whole)
    assert pages[0] == ["newest", msgs[0]]


async def test_companies__filtered_by_tag_on_the_api_and_the_page(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    tag = (await client.post("/api/tags", json={"name": "Partner"}, headers=alice.auth)).json()
    acme = seeded.companies["acme"]
    await client.put(f"/api/companies/{acme}/tags/{tag['id']}", headers=alice.auth)
    listed = (await client.get(f"/api/companies?tag={tag['id']}", headers=alice.auth)).json()
    assert [c["id"] for c in listed["items"]] == [acme] and listed["total"] == 1
    assert len((await client.get("/api/companies", headers=alice.auth)).json()["items"]) == 2
    await login(client, "alice@example.com")
    page = (await client.get(f"/companies?tag={tag['id']}", headers={"accept": "text/html"})).text
    assert "Acme Corp" in page and "Globex" not in page and 'class="tag tag-grey">Partner' in page


async def test_notes__on_a_contact_or_company_merged_away_refused_naming_the_survivor(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: a note written on a contact merged away (an old id, an automatic merge) answered
    201 and stayed on the absorbed contact: on neither page, in no list of notes. It is now
    refused with the contact it went to, and so are notes and tags on a merged company."""
    seeded = await seed_crm(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    merged = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": linus}, headers=alice.auth
    )
    assert merged.status_code == 200, merged.text
    refused = await client.post(
        f"/api/contacts/{linus}/notes", json={"body": "Call back"}, headers=alice.auth
    )
    assert refused.status_code == 409, refused.text
    assert f"merged into Ada Lovelace (contact {ada})" in refused.json()["error"]["message"]
    acme, globex = seeded.companies["acme"], seeded.companies["globex"]
    merge = await client.post(
        f"/api/companies/{acme}/merge", json={"other_company_id": globex}, headers=alice.auth
    )
    assert merge.status_code == 200, merge.text
    note = await client.post(
        f"/api/companies/{globex}/notes", json={"body": "Renewal"}, headers=alice.auth
    )
    assert note.status_code == 409, note.text
    assert f"merged into Acme Corp (company {acme})" in note.json()["error"]["message"]
    tag = (await client.post("/api/tags", json={"name": "Partner"}, headers=alice.auth)).json()
    tagged = await client.put(f"/api/companies/{globex}/tags/{tag['id']}", headers=alice.auth)
    assert tagged.status_code == 409, tagged.text
    assert await _count(pool, "notes") == 0 and await _count(pool, "company_tags") == 0
    # Live ones still take them; the merged contact's page offers no note form.
    assert (
        await client.post(f"/api/contacts/{ada}/notes", json={"body": "ok"}, headers=alice.auth)
    ).status_code == 201
    await login(client, "alice@example.com")
    page = (await client.get(f"/contacts/{linus}", headers={"accept": "text/html"})).text
    assert "was merged into" in page and 'id="note-form"' not in page


async def test_notes__an_edit_made_on_an_old_version_is_refused_not_lost(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: the same note open in two tabs (or a tab and a script): the second save silently
    replaced the first one's text. A change sent with the version it was made on (If-Match,
    the ETag of the note's answers; the page's edit form carries it) is refused with 412 when
    the note changed since, and nothing changes; without one, the last save wins as before."""
    seeded = await seed_crm(pool, alice.account.id)
    made = await client.post(
        f"/api/contacts/{seeded.contacts['ada']}/notes", json={"body": "v1"}, headers=alice.auth
    )
    etag = made.headers["ETag"]
    note_url = f"/api/notes/{made.json()['id']}"
    assert (await client.get(note_url, headers=alice.auth)).headers["ETag"] == etag
    first = await client.patch(
        note_url, json={"body": "tab one"}, headers={**alice.auth, "If-Match": etag}
    )
    assert first.status_code == 200 and first.headers["ETag"] != etag
    second = await client.patch(
        note_url, json={"body": "tab two"}, headers={**alice.auth, "If-Match": etag}
    )
    assert second.status_code == 412, second.text
    assert second.json()["error"]["code"] == "precondition_failed"
    stale_delete = await client.delete(note_url, headers={**alice.auth, "If-Match": etag})
    assert stale_delete.status_code == 412
    assert (await client.get(note_url, headers=alice.auth)).json()["body"] == "tab one"
    actions = await _activity(client, alice, seeded.contacts["ada"])
    assert actions == ["note.edited", "note.added"]
    # The current version, a list holding it, or *, go through; so does no If-Match at all.
    for form in ("{}", '"0-1", {}', "*", None):
        match = form.format(first.headers["ETag"]) if form else None
        headers = {**alice.auth, **({"If-Match": match} if match else {})}
        again = await client.patch(note_url, json={"body": f"with {match}"}, headers=headers)
        assert again.status_code == 200, (match, again.text)
        first = again

    # The page: the edit form of a page opened before another save is refused in words.
    await login(client, "alice@example.com")
    page = (await client.get(f"/contacts/{seeded.contacts['ada']}", headers=HTML)).text
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version is not None and html.unescape(version[1]) == first.headers["ETag"]
    csrf = session_csrf(page)
    await client.patch(note_url, json={"body": "from the app"}, headers=alice.auth)
    stale = await client.post(
        f"{note_url.removeprefix('/api')}/edit",
        data={"body": "from the old tab", "version": html.unescape(version[1]), "csrf_token": csrf},
        headers=HTML,
    )
    assert stale.status_code == 412 and "changed after you opened it" in stale.text
    assert (await client.get(note_url, headers=alice.auth)).json()["body"] == "from the app"


async def test_activity__a_deleted_tag_or_list_is_in_the_history_of_what_carried_it(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: after a tag or a static list was deleted, its contacts' and companies' history
    still said only that it was put on them: nothing told why it was gone."""
    seeded = await seed_crm(pool, alice.account.id)
    ada, grace = seeded.contacts["ada"], seeded.contacts["grace"]
    acme = seeded.companies["acme"]
    tag = (await client.post("/api/tags", json={"name": "Temp"}, headers=alice.auth)).json()
    bulk = {"action": "tag", "tag_id": tag["id"], "contact_ids": [ada, grace]}
    assert (await client.post("/api/contacts/bulk", json=bulk, headers=alice.auth)).is_success
    assert (
        await client.put(f"/api/companies/{acme}/tags/{tag['id']}", headers=alice.auth)
    ).is_success
    board = await client.post(
        "/api/lists", json={"name": "Board", "kind": "static"}, headers=alice.auth
    )
    list_id = board.json()["id"]
    await client.post(
        f"/api/lists/{list_id}/contacts", json={"contact_ids": [ada]}, headers=alice.auth
    )
    assert (await client.delete(f"/api/tags/{tag['id']}", headers=alice.auth)).status_code == 204
    assert (await client.delete(f"/api/lists/{list_id}", headers=alice.auth)).status_code == 204

    gone = {"tag_id": tag["id"], "tag": "Temp", "deleted": True}
    for path in (f"/api/contacts/{grace}/activity", f"/api/companies/{acme}/activity"):
        latest = (await client.get(path, headers=alice.auth)).json()[0]
        assert (latest["action"], latest["detail"]) == ("tag.removed", gone), path
    entries = (await client.get(f"/api/contacts/{ada}/activity", headers=alice.auth)).json()
    assert [(e["action"], e["detail"]) for e in entries[:2]] == [
        ("list.removed", {"list_id": list_id, "list": "Board", "deleted": True}),
        ("tag.removed", gone),
    ]
    await login(client, "alice@example.com")
    page = (await client.get(f"/contacts/{ada}", headers=HTML)).text
    assert "deleted the list “Board” it was on" in page and "deleted the tag" in page
