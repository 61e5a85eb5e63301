"""Keep-in-touch rounds through the JSON API: done or dismissed, the next round counts from
then and recomputes keep it; a cadence cleared and set again, or on a contact merged away and
back, comes back; the recompute's count is what is open."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.followup_seed import _message, keep_live, seed_loops

DAY = timedelta(days=1)


async def _rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


async def _board(client: httpx.AsyncClient, user: User) -> dict:
    response = await client.get("/api/followups", headers=user.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def _recompute(client: httpx.AsyncClient, user: User) -> int:
    response = await client.post("/api/followups/recompute", headers=user.auth)
    assert response.status_code == 200, response.text
    return response.json()["open"]


async def _cadence(
    client: httpx.AsyncClient, user: User, contact_id: int, days: int | None
) -> None:
    response = await client.put(
        f"/api/contacts/{contact_id}/cadence", json={"days": days}, headers=user.auth
    )
    assert response.status_code == 200, response.text


async def _closed_on(pool: AsyncConnectionPool, followup_id: int) -> datetime:
    ((closed_on,),) = await _rows(
        pool, "SELECT closed_on FROM crm.followups WHERE id = %s", followup_id
    )
    return closed_on


def _of(followups: list[dict], contact_id: int) -> list[dict]:
    return [f for f in followups if f["contact_id"] == contact_id and f["reason"] == "cadence"]


@pytest.mark.parametrize(("action", "state"), [("done", "done"), ("dismiss", "dismissed")])
async def test_done_or_dismissed__the_next_round_counts_from_then_through_recomputes(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, action: str, state: str
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    ada = seeded.contacts["ada"]
    await _cadence(client, alice, ada, 7)
    board = await _board(client, alice)
    (due,) = _of(board["due"], ada)  # last in touch in March
    acted = await client.post(f"/api/followups/{due['id']}/{action}", headers=alice.auth)
    assert acted.status_code == 200, acted.text
    for _ in range(3):  # a recompute runs after every sync and nightly
        await _recompute(client, alice)
        after = await _board(client, alice)
        assert _of(after["due"], ada) == []
        (upcoming,) = _of(after["upcoming"], ada)
        remind_on = datetime.fromisoformat(upcoming["remind_on"])
        assert datetime.fromisoformat(board["now"]) + 7 * DAY <= remind_on
        assert remind_on <= datetime.fromisoformat(after["now"]) + 7 * DAY
        assert upcoming["due_on"] == upcoming["remind_on"]
    # The round acted on stays as the user left it; the next one counts from that moment.
    closed = (await client.get(f"/api/followups/{due['id']}", headers=alice.auth)).json()
    assert closed["state"] == state and acted.json()["state"] == state
    assert remind_on == await _closed_on(pool, due["id"]) + 7 * DAY
    # One reminder waits, for the next round's due time.
    jobs = await _rows(
        pool,
        "SELECT start_after FROM queue.job WHERE singleton_key = %s AND state = 'created'",
        f"followup-{upcoming['id']}",
    )
    assert [start for (start,) in jobs] == [remind_on]


async def test_done__a_later_interaction_moves_the_next_round_on(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    ada = seeded.contacts["ada"]
    await _cadence(client, alice, ada, 7)
    (due,) = _of((await _board(client, alice))["due"], ada)
    await client.post(f"/api/followups/{due['id']}/done", headers=alice.auth)
    # They write two days after it was done (as the relationship analysis records it).
    later = await _closed_on(pool, due["id"]) + 2 * DAY
    await _rows(
        pool,
        "UPDATE crm.relationships SET last_at = %s WHERE contact_id = %s RETURNING contact_id",
        later,
        ada,
    )
    await _recompute(client, alice)
    (upcoming,) = _of((await _board(client, alice))["upcoming"], ada)
    assert datetime.fromisoformat(upcoming["remind_on"]) == later + 7 * DAY


async def test_cadence_cleared_and_set_again__its_follow_up_comes_back(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    linus = seeded.contacts["linus"]  # last in touch 30 days before the seed's date
    await _cadence(client, alice, linus, 14)
    (first,) = _of((await _board(client, alice))["due"], linus)
    await _cadence(client, alice, linus, None)
    assert _of((await _board(client, alice))["due"], linus) == []
    await _cadence(client, alice, linus, 14)
    (again,) = _of((await _board(client, alice))["due"], linus)
    assert again["remind_on"] == first["remind_on"]
    await _recompute(client, alice)
    (kept,) = _of((await _board(client, alice))["due"], linus)
    assert kept["id"] == again["id"] and kept["state"] == "open"


async def test_hidden_contact__no_keep_in_touch_reminder_until_shown_again(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    linus = seeded.contacts["linus"]
    await _cadence(client, alice, linus, 14)
    assert len(_of((await _board(client, alice))["due"], linus)) == 1

    async def visibility(state: str) -> None:
        answer = await client.post(
            f"/api/contacts/{linus}/visibility", json={"state": state}, headers=alice.auth
        )
        assert answer.status_code in (200, 204), answer.text
        await _recompute(client, alice)

    await visibility("hidden")
    assert _of((await _board(client, alice))["due"], linus) == []
    await visibility("shown")
    assert len(_of((await _board(client, alice))["due"], linus)) == 1


async def test_cadence__cites_the_message_the_last_contact_dates_not_later_bulk_mail(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """A newsletter from the contact after your last exchange is left out of the figures:
    the follow-up cites the exchange the page dates, not the newsletter."""
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    linus = seeded.contacts["linus"]
    ((last_at, address),) = await _rows(
        pool,
        "SELECT r.last_at, c.primary_address FROM crm.relationships r"
        " JOIN crm.contacts c ON c.id = r.contact_id WHERE r.contact_id = %s",
        linus,
    )
    async with pool.connection() as conn, conn.transaction():
        later = await _message(
            conn, alice.account.id, "newsletter", address, "me@mine.test",
            last_at + 5 * DAY, "This week's deals", "received_from",
        )  # fmt: skip
    await _cadence(client, alice, linus, 14)
    (followup,) = _of((await _board(client, alice))["due"], linus)
    assert followup["message_id"] is not None and followup["message_id"] != later


async def test_contact_merged_then_undone__its_cadence_comes_back(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    ada, linus = seeded.contacts["ada"], seeded.contacts["linus"]
    await _cadence(client, alice, ada, 7)  # the survivor keeps a cadence of its own
    await _cadence(client, alice, linus, 14)
    assert _of((await _board(client, alice))["due"], linus)
    merged = await client.post(
        f"/api/contacts/{ada}/merge", json={"other_contact_id": linus}, headers=alice.auth
    )
    assert merged.status_code == 200, merged.text
    await _recompute(client, alice)
    assert _of((await _board(client, alice))["due"], linus) == []
    undone = await client.post(
        f"/api/contacts/merges/{merged.json()['merge_id']}/undo", headers=alice.auth
    )
    assert undone.status_code == 200, undone.text
    await _recompute(client, alice)
    (back,) = _of((await _board(client, alice))["due"], linus)
    assert back["state"] == "open"


async def test_recompute__counts_the_follow_ups_open_or_snoozed(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    linus = seeded.contacts["linus"]
    await _cadence(client, alice, linus, 14)
    await _cadence(client, alice, linus, None)
    await _cadence(client, alice, linus, 14)
    await _recompute(client, alice)
    board = await _board(client, alice)
    by_reason = {f["reason"]: f for f in board["due"]}
    await client.post(f"/api/followups/{by_reason['cold']['id']}/done", headers=alice.auth)
    await client.post(
        f"/api/followups/{by_reason['promise']['id']}/snooze",
        json={"until_reply": True},
        headers=alice.auth,
    )
    count = await _recompute(client, alice)
    board = await _board(client, alice)
    listed = board["due"] + board["upcoming"] + board["waiting"]
    assert count == len(listed)
    ((stored,),) = await _rows(
        pool,
        "SELECT count(*) FROM crm.followups WHERE user_id = %s AND state IN ('open', 'snoozed')",
        alice.account.id,
    )
    assert count == stored


@pytest.mark.parametrize("action", ["done", "dismiss"])
async def test_reopened_round__the_current_round_again_due_as_if_not_marked(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, action: str
) -> None:
    """A keep-in-touch round marked by mistake and reopened is the contact's current round
    again: due as before (the moment it was marked no longer pushes it back), the round opened
    in its place closes with its reminder cancelled, recomputes keep one round; marked again,
    the next round counts from then. With its cadence cleared meanwhile, it stays closed."""
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    ada = seeded.contacts["ada"]
    await _cadence(client, alice, ada, 7)
    (due,) = _of((await _board(client, alice))["due"], ada)
    acted = await client.post(f"/api/followups/{due['id']}/{action}", headers=alice.auth)
    assert acted.status_code == 200, acted.text
    (placed,) = _of((await _board(client, alice))["upcoming"], ada)  # the next round

    reopened = await client.post(f"/api/followups/{due['id']}/reopen", headers=alice.auth)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json() == due
    for _ in range(3):  # a recompute runs after every sync and nightly
        await _recompute(client, alice)
        board = await _board(client, alice)
        assert _of(board["due"], ada) == [due] and _of(board["upcoming"], ada) == []
    gone = (await client.get(f"/api/followups/{placed['id']}", headers=alice.auth)).json()
    assert gone["state"] == "resolved"
    jobs = await _rows(
        pool,
        "SELECT singleton_key, state, start_after FROM queue.job WHERE singleton_key IN (%s, %s)"
        " AND state IN ('created', 'cancelled') ORDER BY id",
        f"followup-{due['id']}",
        f"followup-{placed['id']}",
    )
    assert (f"followup-{placed['id']}", "cancelled") in [(k, s) for k, s, _ in jobs]
    waiting = [start for key, state, start in jobs if state == "created"]
    assert waiting == [datetime.fromisoformat(due["remind_on"])]

    again = await client.post(f"/api/followups/{due['id']}/{action}", headers=alice.auth)
    assert again.status_code == 200, again.text
    (upcoming,) = _of((await _board(client, alice))["upcoming"], ada)
    assert upcoming["id"] not in (due["id"], placed["id"])
    remind_on = datetime.fromisoformat(upcoming["remind_on"])
    assert remind_on == await _closed_on(pool, due["id"]) + 7 * DAY

    await _cadence(client, alice, ada, None)
    refused = await client.post(f"/api/followups/{due['id']}/reopen", headers=alice.auth)
    assert refused.status_code == 409 and "no keep-in-touch cadence" in refused.text
    closed = (await client.get(f"/api/followups/{due['id']}", headers=alice.auth)).json()
    assert closed["state"] == acted.json()["state"]
