"""@mentions in notes link the contact named in full (the longest name that fits wins), by
address too; an ambiguous, unknown or hidden mention links no one and the writer is told
which; a hidden contact is never replaced by another with a similar name."""

from __future__ import annotations

from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import notes as notes_service
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}
PEOPLE = {
    "purcell": ("mike.purcell@enron.test", "Mike Purcell"),
    "swerzbin": ("mike.swerzbin@enron.test", "Mike Swerzbin"),
    "amy": ("amy.fitzpatrick@enron.test", "Amy Fitzpatrick"),
    "bill": ("bill.williams@enron.test", "Bill Williams III"),
    "fischer": ("mark.fischer@enron.test", "Mark Fischer"),
    "jose": ("jose@enron.test", "José Núñez-O'Brien"),
}


async def _people(pool: AsyncConnectionPool, user_id: int) -> dict[str, int]:
    ids = {}
    async with pool.connection() as conn, conn.transaction():
        for handle, (address, name) in PEOPLE.items():
            row = await (
                await conn.execute(
                    "INSERT INTO crm.contacts (user_id, primary_address, name, first_name,"
                    " created) VALUES (%s, %s, %s, split_part(%s, ' ', 1), true) RETURNING id",
                    (user_id, address, name, name),
                )
            ).fetchone()
            assert row is not None
            ids[handle] = row[0]
            await conn.execute(
                "INSERT INTO crm.contact_addresses (user_id, address, contact_id)"
                " VALUES (%s, %s, %s)",
                (user_id, address, row[0]),
            )
    return ids


async def _hide(pool: AsyncConnectionPool, contact_id: int) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.contacts SET suppressed_reason = 'user' WHERE id = %s", (contact_id,)
        )


async def _write(pool: AsyncConnectionPool, user: User, subject: int, body: str) -> Any:
    return await notes_service.add_note(pool, user.account.id, "contact", subject, body)


def _linked(note: notes_service.Note) -> set[int]:
    return {m.id for m in note.mentions}


def _unlinked(note: notes_service.Note) -> list[tuple[str, str]]:
    return [(u.mention, u.reason) for u in note.unlinked]


async def test_mentions__full_names_and_addresses_link_that_contact(
    alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    people = await _people(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    note = await _write(pool, alice, ada, "Ping @Mike Purcell and @Amy Fitzpatrick said hi")
    assert _linked(note) == {people["purcell"], people["amy"]} and note.unlinked == ()
    note = await _write(pool, alice, ada, "@Bill Williams III, @mark.fischer@enron.test.")
    assert _linked(note) == {people["bill"], people["fischer"]} and note.unlinked == ()
    note = await _write(pool, alice, ada, "cc @josé núñez-o’brien’s team and @Mike Swerzbin")
    assert _linked(note) == {people["jose"], people["swerzbin"]} and note.unlinked == ()
    # A unique first name still does; the page of the one mentioned shows the note.
    note = await _write(pool, alice, ada, "@Amy, @Bill and @Grace")
    assert _linked(note) == {people["amy"], people["bill"], seeded.contacts["grace"]}
    shown = await notes_service.list_notes(pool, alice.account.id, "contact", people["purcell"])
    assert [n.body for n in shown] == ["Ping @Mike Purcell and @Amy Fitzpatrick said hi"]


async def test_mentions__ambiguous_or_unknown_links_no_one_and_says_which(
    alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    people = await _people(pool, alice.account.id)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.contacts (user_id, primary_address, name, created)"
            " VALUES (%s, 'other.amy@elsewhere.test', 'Amy Fitzpatrick', true)",
            (alice.account.id,),
        )
    note = await _write(
        pool, alice, seeded.contacts["ada"], "@Mike, @Amy Fitzpatrick, @Nobody Here, @Bill"
    )
    assert _linked(note) == {people["bill"]}
    assert _unlinked(note) == [
        ("@Mike", "ambiguous"),
        ("@Amy Fitzpatrick", "ambiguous"),
        ("@Nobody", "unknown"),
    ]
    assert set(note.unlinked[0].contacts) == {"Mike Purcell", "Mike Swerzbin"}
    # The address tells the two apart.
    edited = await notes_service.edit_note(
        pool, alice.account.id, note.id, "@amy.fitzpatrick@enron.test"
    )
    assert _linked(edited) == {people["amy"]} and edited.unlinked == ()


async def test_mentions__a_hidden_contact_is_not_linked_nor_replaced(
    alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    people = await _people(pool, alice.account.id)
    await _hide(pool, people["purcell"])
    note = await _write(
        pool, alice, seeded.contacts["ada"], "Ping @Mike Purcell and @Amy Fitzpatrick"
    )
    assert _linked(note) == {people["amy"]}
    assert _unlinked(note) == [("@Mike Purcell", "hidden")]
    for contact_id in (people["swerzbin"], people["purcell"]):
        shown = await notes_service.list_notes(pool, alice.account.id, "contact", contact_id)
        assert shown == []


async def test_mentions__the_api_and_the_page_say_which_linked_no_one(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    people = await _people(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    made = await client.post(
        f"/api/contacts/{ada}/notes",
        json={"body": "Ping @Mike Purcell and @Mike"},
        headers=alice.auth,
    )
    assert made.status_code == 201, made.text
    assert [m["id"] for m in made.json()["mentions"]] == [people["purcell"]]
    assert made.json()["unlinked"] == [
        {"mention": "@Mike", "reason": "ambiguous", "contacts": ["Mike Purcell", "Mike Swerzbin"]}
    ]

    await login(client, "alice@example.com")
    csrf = session_csrf((await client.get("/contacts", headers=HTML)).text)
    posted = await client.post(
        f"/contacts/{ada}/notes",
        data={"body": "Ask @Mike and @Zed", "csrf_token": csrf},
        headers=HTML,
    )
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert location.startswith(f"/contacts/{ada}?") and location.endswith("#note-form")
    page = (await client.get(location, headers=HTML)).text
    assert "“@Mike” fits several contacts" in page
    assert "“@Zed” is not one of your contacts" in page
    clean = await client.post(
        f"/contacts/{ada}/notes", data={"body": "Ask @Amy", "csrf_token": csrf}, headers=HTML
    )
    assert clean.headers["location"].startswith(f"/contacts/{ada}#note-")
