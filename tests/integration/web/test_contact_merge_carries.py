"""A contact merge carries what the absorbed contact had to the survivor (QA report item 5):
tags (their union), notes and the mentions of it, static-list memberships, the keep-in-touch
cadence with its follow-up (the survivor's own wins), and the name, company, title and phone
set by the user where the survivor has none; undoing it gives each contact back exactly what
it had. Shared tags and lists are neither doubled nor refused."""

from __future__ import annotations

from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import service as contacts_service
from fluffymail.jobs import followup_reminder
from tests.integration.web.conftest import User
from tests.integration.web.contact_seed import NOW, Seeded, seed_crm
from tests.integration.web.followup_seed import keep_live

# What a contact has, read straight from the tables: compared before a merge and after its undo.
SNAPSHOT = {
    "tags": "SELECT tag_id, tagged_by, tagged_on FROM crm.contact_tags"
    " WHERE contact_id = %(id)s ORDER BY tag_id",
    "lists": "SELECT list_id, added_by, added_on FROM crm.contact_list_members"
    " WHERE contact_id = %(id)s ORDER BY list_id",
    "notes": "SELECT id, body, updated_on FROM crm.notes WHERE contact_id = %(id)s ORDER BY id",
    "mentions": "SELECT note_id FROM crm.note_mentions WHERE contact_id = %(id)s ORDER BY note_id",
    "cadence": "SELECT days, set_by, set_on FROM crm.contact_cadences WHERE contact_id = %(id)s",
    "followups": "SELECT id, key, state, remind_on FROM crm.followups"
    " WHERE contact_id = %(id)s AND reason = 'cadence' ORDER BY id",
    "contact": "SELECT name, first_name, last_name, name_quality, name_source, company_id,"
    " company_source FROM crm.contacts WHERE id = %(id)s",
    "facts": "SELECT id, field, value, kind, source, source_message_id, confidence, observed_on,"
    " is_current FROM crm.contact_facts WHERE contact_id = %(id)s ORDER BY id",
}


async def _seed(pool: AsyncConnectionPool, user_id: int) -> Seeded:
    """The seeded CRM, its names chosen from their votes as extraction would have (a merge's
    undo chooses them again); a live mailbox, so its follow-ups are due as of now."""
    seeded = await seed_crm(pool, user_id)
    await keep_live(pool, user_id)
    async with pool.connection() as conn, conn.transaction():
        await contacts_service.refresh_names(conn, list(seeded.contacts.values()), NOW)
    return seeded


async def _snapshot(pool: AsyncConnectionPool, contact_id: int) -> dict[str, Any]:
    async with pool.connection() as conn:
        return {
            part: await (await conn.execute(query, {"id": contact_id})).fetchall()
            for part, query in SNAPSHOT.items()
        }


async def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def _tag(client: httpx.AsyncClient, user: User, name: str, *contact_ids: int) -> int:
    tag = await _ok(await client.post("/api/tags", json={"name": name}, headers=user.auth))
    for contact_id in contact_ids:
        await _ok(
            await client.put(f"/api/contacts/{contact_id}/tags/{tag['id']}", headers=user.auth)
        )
    return int(tag["id"])


async def _static_list(client: httpx.AsyncClient, user: User, name: str, *ids: int) -> int:
    made = await _ok(
        await client.post("/api/lists", json={"name": name, "kind": "static"}, headers=user.auth)
    )
    body = {"contact_ids": list(ids)}
    await _ok(await client.post(f"/api/lists/{made['id']}/contacts", json=body, headers=user.auth))
    return int(made["id"])


async def _note(client: httpx.AsyncClient, user: User, contact_id: int, body: str) -> int:
    made = await client.post(
        f"/api/contacts/{contact_id}/notes", json={"body": body}, headers=user.auth
    )
    return int((await _ok(made))["id"])


async def _merge(client: httpx.AsyncClient, user: User, into_id: int, from_id: int) -> int:
    merged = await client.post(
        f"/api/contacts/{into_id}/merge", json={"other_contact_id": from_id}, headers=user.auth
    )
    return int((await _ok(merged))["merge_id"])


async def _undo(client: httpx.AsyncClient, user: User, merge_id: int) -> None:
    undone = await client.post(f"/api/contacts/merges/{merge_id}/undo", headers=user.auth)
    assert (await _ok(undone))["undone"] is True


async def _tag_names(client: httpx.AsyncClient, user: User, contact_id: int) -> list[str]:
    found = await _ok(await client.get(f"/api/contacts/{contact_id}/tags", headers=user.auth))
    return sorted(t["name"] for t in found)


async def _note_ids(client: httpx.AsyncClient, user: User, contact_id: int) -> set[int]:
    found = await _ok(await client.get(f"/api/contacts/{contact_id}/notes", headers=user.auth))
    return {n["id"] for n in found}


async def _list_members(client: httpx.AsyncClient, user: User, list_id: int) -> set[int]:
    found = await _ok(await client.get(f"/api/lists/{list_id}/contacts", headers=user.auth))
    return {c["id"] for c in found["items"]}


async def _cadence(client: httpx.AsyncClient, user: User, contact_id: int) -> int | None:
    found = await _ok(await client.get(f"/api/contacts/{contact_id}/cadence", headers=user.auth))
    return found["days"]


async def _current(client: httpx.AsyncClient, user: User, contact_id: int) -> dict[str, Any]:
    detail = await _ok(await client.get(f"/api/contacts/{contact_id}", headers=user.auth))
    facts = {f["field"]: f["value"] for f in detail["facts"] if f["is_current"]}
    company = detail["company"]["id"] if detail["company"] else None
    return {"name": detail["name"], "company": company, **facts}


async def test_merge__carries_tags_notes_lists_cadence_and_your_values_and_undo_restores(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await _seed(pool, alice.account.id)
    ada, linus, grace = (seeded.contacts[k] for k in ("ada", "linus", "grace"))
    vip = await _tag(client, alice, "VIP", ada, linus)  # both have it: not doubled
    kernel = await _tag(client, alice, "Kernel", linus)
    board = await _static_list(client, alice, "Board", ada, linus)  # both on it
    later = await _static_list(client, alice, "Later", linus)
    on_linus = await _note(client, alice, linus, "Maintains the kernel")
    about_linus = await _note(client, alice, grace, "Ask @Linus about the intro")
    await _ok(
        await client.put(f"/api/contacts/{linus}/cadence", json={"days": 30}, headers=alice.auth)
    )
    # Linus's values set by hand: a name, a company, a title Ada's mail already has (an
    # extracted 'Chief Engineer') and a phone, where Ada has only extracted ones.
    patch = {
        "name": "Linus B. Torvalds",
        "company_id": seeded.companies["globex"],
        "title": "Chief Engineer",
        "phone": "+1 555 0199",
    }
    await _ok(await client.patch(f"/api/contacts/{linus}", json=patch, headers=alice.auth))
    before = {c: await _snapshot(pool, c) for c in (ada, linus, grace)}
    [(followup_id, _, _, _)] = before[linus]["followups"]

    merge_id = await _merge(client, alice, ada, linus)

    assert await _tag_names(client, alice, ada) == ["Kernel", "VIP"]
    assert await _note_ids(client, alice, ada) == {on_linus, about_linus}
    assert await _list_members(client, alice, board) == {ada}
    assert await _list_members(client, alice, later) == {ada}
    assert await _cadence(client, alice, ada) == 30
    assert await _current(client, alice, ada) == {
        "name": "Linus B. Torvalds",
        "company": seeded.companies["globex"],
        "title": "Chief Engineer",
        "phone": "+1 555 0199",
    }
    note = await _ok(await client.get(f"/api/notes/{about_linus}", headers=alice.auth))
    assert [m["id"] for m in note["mentions"]] == [ada]
    # The cadence's follow-up moved with it: the same row, its reminder job still waiting.
    board_due = await _ok(await client.get("/api/followups", headers=alice.auth))
    cadence_due = [f for f in board_due["due"] if f["reason"] == "cadence"]
    assert [(f["id"], f["contact_id"]) for f in cadence_due] == [(followup_id, ada)]
    async with pool.connection() as conn:
        job = await (
            await conn.execute(
                "SELECT state FROM queue.job WHERE name = %s AND singleton_key = %s",
                (followup_reminder.QUEUE, followup_reminder.key_of(followup_id)),
            )
        ).fetchone()
    assert job == ("created",)
    absorbed = await _snapshot(pool, linus)
    for part in ("tags", "lists", "notes", "mentions", "cadence", "followups"):
        assert absorbed[part] == [], part
    assert await _rows_of(pool, vip, board) == (1, 1) and kernel != vip

    await _undo(client, alice, merge_id)

    after = {c: await _snapshot(pool, c) for c in (ada, linus, grace)}
    for contact_id, parts in before.items():
        for part, rows in parts.items():
            assert after[contact_id][part] == rows, (contact_id, part)
    assert await _tag_names(client, alice, linus) == ["Kernel", "VIP"]
    assert await _tag_names(client, alice, ada) == ["VIP"]
    assert await _note_ids(client, alice, ada) == set()
    assert await _cadence(client, alice, ada) is None
    assert await _cadence(client, alice, linus) == 30


async def _rows_of(pool: AsyncConnectionPool, tag_id: int, list_id: int) -> tuple[int, int]:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT (SELECT count(*) FROM crm.contact_tags WHERE tag_id = %s),"
                " (SELECT count(*) FROM crm.contact_list_members WHERE list_id = %s)",
                (tag_id, list_id),
            )
        ).fetchone()
    assert row is not None
    return row[0], row[1]


async def test_merge__the_survivors_own_cadence_values_tags_and_lists_win_and_undo_keeps_them(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await _seed(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    for contact_id, days, name in ((ada, 14, "Ada King"), (linus, 90, "Linus T.")):
        body: dict[str, Any] = {"days": days}
        url = f"/api/contacts/{contact_id}"
        await _ok(await client.put(f"{url}/cadence", json=body, headers=alice.auth))
        body = {"name": name, "title": f"Title of {name}"}
        await _ok(await client.patch(url, json=body, headers=alice.auth))
    phone = {"phone": "+1 555 0142"}
    await _ok(await client.patch(f"/api/contacts/{linus}", json=phone, headers=alice.auth))
    vip = await _tag(client, alice, "VIP", ada, linus)
    board = await _static_list(client, alice, "Board", ada, linus)
    before = {c: await _snapshot(pool, c) for c in (ada, linus)}

    merge_id = await _merge(client, alice, ada, linus)

    assert await _cadence(client, alice, ada) == 14
    current = await _current(client, alice, ada)
    assert (current["name"], current["title"]) == ("Ada King", "Title of Ada King")
    assert current["phone"] == "+1 555 0142"  # the one value Ada had not set
    assert await _tag_names(client, alice, ada) == ["VIP"]
    assert await _list_members(client, alice, board) == {ada}
    assert await _rows_of(pool, vip, board) == (1, 1)  # moved, not doubled nor refused
    merged = await _snapshot(pool, ada)
    for part in ("cadence", "followups", "tags", "lists"):
        assert merged[part] == before[ada][part], part

    await _undo(client, alice, merge_id)

    assert {c: await _snapshot(pool, c) for c in (ada, linus)} == before
    assert await _rows_of(pool, vip, board) == (2, 2)


async def test_merge__nothing_to_carry_and_a_merge_undone_after_changes_keeps_them(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await _seed(pool, alice.account.id)
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    before = {c: await _snapshot(pool, c) for c in (ada, linus)}
    merge_id = await _merge(client, alice, ada, linus)
    await _undo(client, alice, merge_id)
    assert {c: await _snapshot(pool, c) for c in (ada, linus)} == before

    # Carried, then changed on the survivor: the undo gives the absorbed contact its own back
    # and leaves the survivor what the user did since (a tag deleted meanwhile stays deleted).
    gone = await _tag(client, alice, "Gone", linus)
    await _tag(client, alice, "Kept", linus)
    await _ok(
        await client.put(f"/api/contacts/{linus}/cadence", json={"days": 30}, headers=alice.auth)
    )
    merge_id = await _merge(client, alice, ada, linus)
    assert await _tag_names(client, alice, ada) == ["Gone", "Kept"]
    assert await _cadence(client, alice, ada) == 30
    await _ok(await client.delete(f"/api/tags/{gone}", headers=alice.auth))
    await _ok(
        await client.put(f"/api/contacts/{ada}/cadence", json={"days": 7}, headers=alice.auth)
    )
    await _undo(client, alice, merge_id)
    assert await _tag_names(client, alice, linus) == ["Kept"]
    assert await _tag_names(client, alice, ada) == []
    assert await _cadence(client, alice, ada) == 7
    assert await _cadence(client, alice, linus) == 30
