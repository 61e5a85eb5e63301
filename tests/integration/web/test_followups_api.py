"""Follow-ups through the JSON API: cadences (one and bulk), what is due and why (cadence,
going cold, a question they asked, a promise you made), done / snooze / dismiss with their
reminder jobs and activity log, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.jobs import followup_reminder
from tests.integration.web.conftest import User
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.followup_seed import PROMISE, QUESTION, keep_live, seed_loops


async def _rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


async def _board(client: httpx.AsyncClient, user: User) -> dict:
    response = await client.get("/api/followups", headers=user.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_cadence__due_with_its_last_message_and_logged(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    ada = seeded.contacts["ada"]
    put = await client.put(f"/api/contacts/{ada}/cadence", json={"days": 30}, headers=alice.auth)
    assert put.json() == {"contact_id": ada, "days": 30}
    got = await client.get(f"/api/contacts/{ada}/cadence", headers=alice.auth)
    assert got.json()["days"] == 30
    board = await _board(client, alice)
    (due,) = [f for f in board["due"] if f["contact_id"] == ada]
    assert due["reason"] == "cadence" and due["detail"] == "Keep in touch every 30 days"
    assert due["message_id"] in seeded.messages.values()  # the last message either way
    log = await _rows(
        pool, "SELECT action, detail->>'days' FROM crm.activity WHERE subject_id = %s", ada
    )
    assert ("cadence.changed", "30") in log
    # A reminder job waits for it, keyed by the follow-up.
    jobs = await _rows(
        pool,
        "SELECT singleton_key, state FROM queue.job WHERE name = %s",
        followup_reminder.QUEUE,
    )
    assert (f"followup-{due['id']}", "created") in jobs
    # Clearing the cadence closes it and cancels the reminder.
    await client.put(f"/api/contacts/{ada}/cadence", json={"days": None}, headers=alice.auth)
    assert not [f for f in (await _board(client, alice))["due"] if f["contact_id"] == ada]
    jobs = await _rows(
        pool, "SELECT state FROM queue.job WHERE singleton_key = %s", f"followup-{due['id']}"
    )
    assert jobs == [("cancelled",)]


@pytest.mark.parametrize("days", [0, -5, 3651])
async def test_cadence__out_of_range_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, days: int
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada = seeded.contacts["ada"]
    one = await client.put(f"/api/contacts/{ada}/cadence", json={"days": days}, headers=alice.auth)
    assert one.status_code == 422 and "days" in str(one.json()["error"]["details"])
    bulk = await client.post(
        "/api/contacts/cadence", json={"days": days, "contact_ids": [ada]}, headers=alice.auth
    )
    assert bulk.status_code == 422
    for bad in ({"days": "often"}, {"days": 1.5}, {}, {"days": 3, "extra": 1}):
        response = await client.put(f"/api/contacts/{ada}/cadence", json=bad, headers=alice.auth)
        assert response.status_code == 422, bad
    assert await _rows(pool, "SELECT * FROM crm.contact_cadences") == []
    assert await _rows(pool, "SELECT * FROM crm.followups") == []


async def test_bulk_cadence__all_or_none(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    mine = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    ids = [mine.contacts["ada"], mine.contacts["grace"]]
    mixed = await client.post(
        "/api/contacts/cadence",
        json={"days": 14, "contact_ids": [*ids, bobs.contacts["ada"]]},
        headers=alice.auth,
    )
    assert mixed.status_code == 404
    assert await _rows(pool, "SELECT * FROM crm.contact_cadences") == []
    ok = await client.post(
        "/api/contacts/cadence", json={"days": 14, "contact_ids": ids}, headers=alice.auth
    )
    assert ok.json() == {"days": 14, "changed": sorted(ids)}
    rows = await _rows(pool, "SELECT contact_id, days FROM crm.contact_cadences ORDER BY 1")
    assert rows == [(i, 14) for i in sorted(ids)]


async def test_recompute__cold_question_and_promise_each_with_its_message(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    messages = await seed_loops(pool, alice.account.id)
    response = await client.post("/api/followups/recompute", headers=alice.auth)
    assert response.status_code == 200
    board = await _board(client, alice)
    found = {(f["reason"], f["contact_id"]): f for f in board["due"] + board["upcoming"]}
    cold = found[("cold", seeded.contacts["grace"])]
    assert cold["message_id"] is not None
    question = found[("question", seeded.contacts["linus"])]
    assert question["detail"] == QUESTION and question["message_id"] == messages["question"]
    promise = found[("promise", seeded.contacts["ada"])]
    assert promise["detail"] == PROMISE and promise["message_id"] == messages["promise"]
    # Ada's question was answered by the user's later message: no loop for it; nor for a
    # question from someone the user never wrote to.
    assert ("question", seeded.contacts["ada"]) not in found
    assert ("question", messages["vendor"]) not in found
    # Recomputing again changes nothing and schedules nothing new.
    before = await _rows(pool, "SELECT id, state, remind_on FROM crm.followups ORDER BY id")
    jobs = await _rows(pool, "SELECT count(*) FROM queue.job")
    await client.post("/api/followups/recompute", headers=alice.auth)
    assert await _rows(pool, "SELECT id, state, remind_on FROM crm.followups ORDER BY id") == before
    assert await _rows(pool, "SELECT count(*) FROM queue.job") == jobs


async def test_snoozed_past_the_next_two_weeks__listed_under_later(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    await client.post("/api/followups/recompute", headers=alice.auth)
    board = await _board(client, alice)
    (question,) = [f for f in board["due"] + board["upcoming"] if f["reason"] == "question"]
    far = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    snoozed = await client.post(
        f"/api/followups/{question['id']}/snooze", json={"until": far}, headers=alice.auth
    )
    assert snoozed.status_code == 200, snoozed.text
    board = await _board(client, alice)
    assert [f["id"] for f in board["later"]] == [question["id"]]
    assert question["id"] not in [f["id"] for f in board["due"] + board["upcoming"]]


async def test_done_snooze_dismiss__states_reminders_and_log(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    await client.post("/api/followups/recompute", headers=alice.auth)
    board = await _board(client, alice)
    by_reason = {f["reason"]: f for f in board["due"] + board["upcoming"]}
    question, promise, cold = by_reason["question"], by_reason["promise"], by_reason["cold"]
    base = "/api/followups"

    until = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    snoozed = await client.post(
        f"{base}/{question['id']}/snooze", json={"until": until}, headers=alice.auth
    )
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["state"] == "snoozed"
    assert snoozed.json()["remind_on"].startswith(f"{until}T09:00:00")
    # Re-snoozing replaces the reminder job: one queued, the old one cancelled.
    later = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()
    await client.post(f"{base}/{question['id']}/snooze", json={"until": later}, headers=alice.auth)
    jobs = await _rows(
        pool,
        "SELECT state, start_after FROM queue.job WHERE singleton_key = %s ORDER BY id",
        f"followup-{question['id']}",
    )
    assert [s for s, _ in jobs].count("created") == 1
    assert jobs[-1][0] == "created" and jobs[-1][1].date().isoformat() == later

    waiting = await client.post(
        f"{base}/{promise['id']}/snooze", json={"until_reply": True}, headers=alice.auth
    )
    assert waiting.json()["remind_on"] is None and waiting.json()["until_reply"] is True
    assert [f["id"] for f in (await _board(client, alice))["waiting"]] == [promise["id"]]

    done = await client.post(f"{base}/{cold['id']}/done", headers=alice.auth)
    assert done.json()["state"] == "done"
    again = await client.post(f"{base}/{cold['id']}/dismiss", headers=alice.auth)
    assert again.status_code == 409
    assert await _rows(
        pool, "SELECT state FROM queue.job WHERE singleton_key = %s", f"followup-{cold['id']}"
    ) in ([], [("cancelled",)])

    log = await _rows(pool, "SELECT action FROM crm.activity ORDER BY id")
    assert [a for (a,) in log] == [
        "followup.snoozed",
        "followup.snoozed",
        "followup.snoozed",
        "followup.done",
    ]
    assert seeded.contacts


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"until": "2001-01-01"},
        {"until": "2001-01-01T00:00:00"},
        {"until": "2999-01-01"},
        {"until": "2030-01-01", "until_reply": True},
        {"until": "soon"},
        {"until_reply": "maybe"},
    ],
)
async def test_snooze__bad_input_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, body: dict
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    await client.put(
        f"/api/contacts/{seeded.contacts['ada']}/cadence", json={"days": 7}, headers=alice.auth
    )
    (due,) = (await _board(client, alice))["due"]
    before = await _rows(pool, "SELECT * FROM crm.followups")
    log = await _rows(pool, "SELECT count(*) FROM crm.activity")
    response = await client.post(
        f"/api/followups/{due['id']}/snooze", json=body, headers=alice.auth
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["message"]
    assert await _rows(pool, "SELECT * FROM crm.followups") == before
    assert await _rows(pool, "SELECT count(*) FROM crm.activity") == log


async def test_done_on_a_cadence_starts_the_next_round(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    ada = seeded.contacts["ada"]
    await client.put(f"/api/contacts/{ada}/cadence", json={"days": 10}, headers=alice.auth)
    (due,) = (await _board(client, alice))["due"]
    done = await client.post(f"/api/followups/{due['id']}/done", headers=alice.auth)
    assert done.status_code == 200
    board = await _board(client, alice)
    assert board["due"] == []
    (next_round,) = board["upcoming"]
    assert next_round["id"] != due["id"] and next_round["state"] == "open"
    assert done.json()["state"] == "done"  # the round done stays done
    remind = datetime.fromisoformat(next_round["remind_on"])
    assert timedelta(days=9) < remind - datetime.fromisoformat(board["now"]) <= timedelta(days=10)


async def test_digest__setting_and_event(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    from fluffymail.crm.followups import service

    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    await client.put(
        f"/api/contacts/{seeded.contacts['ada']}/cadence", json={"days": 7}, headers=alice.auth
    )
    now = datetime.now(UTC)
    async with pool.connection() as conn:
        assert await service.record_digest(conn, alice.account.id, now) is None  # off
    put = await client.put("/api/followups/settings", json={"digest": True}, headers=alice.auth)
    assert put.json() == {"digest": True}
    assert (await _board(client, alice))["digest"] is True
    async with pool.connection() as conn:
        first = await service.record_digest(conn, alice.account.id, now)
        assert first is not None
        assert await service.record_digest(conn, alice.account.id, now) is None  # once a day
    ((kind, payload),) = await _rows(pool, "SELECT kind, payload FROM crm.outgoing_events")
    assert kind == "followups.due" and payload["due"] == 1
    assert payload["followups"][0]["contact_id"] == seeded.contacts["ada"]


async def test_snoozed_until_they_write__wakes_when_they_write(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    await client.post("/api/followups/recompute", headers=alice.auth)
    board = await _board(client, alice)
    (promise,) = [f for f in board["due"] if f["reason"] == "promise"]
    await client.post(
        f"/api/followups/{promise['id']}/snooze", json={"until_reply": True}, headers=alice.auth
    )
    await client.post("/api/followups/recompute", headers=alice.auth)  # they have not written
    assert [f["id"] for f in (await _board(client, alice))["waiting"]] == [promise["id"]]
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text, from_address,"
                " date) VALUES (%s, 'fu:reply', 'Re: budget', 'Thanks!', 'ada@acme.test',"
                " now()) RETURNING id",
                (alice.account.id,),
            )
        ).fetchone()
        await conn.execute(
            "INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on,"
            " visible) VALUES (%s, 'ada@acme.test', 'received_from', %s, now(), true)",
            (row[0], alice.account.id),
        )
    await client.post("/api/followups/recompute", headers=alice.auth)
    woken = (await client.get(f"/api/followups/{promise['id']}", headers=alice.auth)).json()
    assert woken["state"] == "open" and woken["message_id"] == promise["message_id"]
    assert woken["remind_on"] is not None and woken["until_reply"] is False
    assert woken["contact_id"] == seeded.contacts["ada"]
    assert promise["id"] in [f["id"] for f in (await _board(client, alice))["due"]]


async def test_done_again_changes_nothing_and_reopen_opens_it_due_as_before(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    """QA: a second "done" (a double click, a client's retry) answered 409, and nothing
    reopened a follow-up done, dismissed or snoozed by mistake. Done again answers the
    follow-up as it is; POST …/reopen opens it again, due when it was due, with its reminder,
    logged like done and dismiss."""
    await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    await client.post("/api/followups/recompute", headers=alice.auth)
    board = await _board(client, alice)
    by_reason = {f["reason"]: f for f in board["due"] + board["upcoming"]}
    question, promise, cold = by_reason["question"], by_reason["promise"], by_reason["cold"]
    url = f"/api/followups/{question['id']}"

    done = await client.post(f"{url}/done", headers=alice.auth)
    again = await client.post(f"{url}/done", headers=alice.auth)
    assert done.status_code == again.status_code == 200, again.text
    assert again.json() == done.json() and done.json()["state"] == "done"
    dismissed = await client.post(f"{url}/dismiss", headers=alice.auth)
    assert dismissed.status_code == 409, dismissed.text
    assert dismissed.json()["error"]["message"].endswith("is already done; reopen it first")

    reopened = await client.post(f"{url}/reopen", headers=alice.auth)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json() == question  # open, due when it was due
    assert question["id"] in [f["id"] for f in (await _board(client, alice))["due"]]
    assert (await client.post(f"{url}/reopen", headers=alice.auth)).json() == question
    jobs = await _rows(
        pool,
        "SELECT start_after FROM queue.job WHERE singleton_key = %s AND state = 'created'",
        f"followup-{question['id']}",
    )
    assert [start.isoformat() for (start,) in jobs] == [
        datetime.fromisoformat(question["remind_on"]).isoformat()
    ]
    # Dismissed and snoozed ones reopen too; one closed by itself does not.
    assert (await client.post(f"{url}/dismiss", headers=alice.auth)).status_code == 200
    assert (await client.post(f"{url}/reopen", headers=alice.auth)).json()["state"] == "open"
    await client.post(
        f"/api/followups/{promise['id']}/snooze", json={"until_reply": True}, headers=alice.auth
    )
    woken = await client.post(f"/api/followups/{promise['id']}/reopen", headers=alice.auth)
    assert woken.json() == promise and (await _board(client, alice))["waiting"] == []
    await _rows(
        pool,
        "UPDATE crm.followups SET state = 'resolved', closed_on = now(), remind_on = NULL"
        " WHERE id = %s RETURNING id",
        cold["id"],
    )
    resolved = await client.post(f"/api/followups/{cold['id']}/reopen", headers=alice.auth)
    assert resolved.status_code == 409 and "closed by itself" in resolved.text
    foreign = await client.post(f"{url}/reopen", headers=bob.auth)
    assert foreign.status_code == 404

    log = await _rows(
        pool,
        "SELECT action, detail->>'was' FROM crm.activity WHERE action LIKE 'followup.%%'"
        " ORDER BY id",
    )
    assert log == [
        ("followup.done", None),
        ("followup.reopened", "done"),
        ("followup.dismissed", None),
        ("followup.reopened", "dismissed"),
        ("followup.snoozed", None),
        ("followup.reopened", "snoozed"),
    ]
