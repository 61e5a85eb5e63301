"""The Follow-ups board of a mailbox whose mail ended long ago: due and overdue as of the
archive's last day (the time its scores are as of), with the same note, alike in the JSON API,
the page and the digest; a snooze or a keep-in-touch round done counts from that day too. A
live mailbox's board is as it was: as of now, no note."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.followup_seed import PROMISE, QUESTION, keep_live, seed_loops

HTML = {"accept": "text/html"}
ENDS = datetime(2002, 3, 14, 9, tzinfo=UTC)  # the archive's last mail (a Thursday)
DAY = timedelta(days=1)
NOTE = "This archive ends in March 2002; follow-ups are as of then, like the scores."


async def _mailbox(
    pool: AsyncConnectionPool, user_id: int, *, ends: datetime | None
) -> dict[str, int]:
    """The follow-ups seed (Grace going cold, Linus's question, the promise to Ada) and a last
    message now; with `ends`, every date of the user's mail moved back so it ends then. The
    contacts' ids."""
    seeded = await seed_crm(pool, user_id)
    await seed_loops(pool, user_id)
    await keep_live(pool, user_id)
    if ends is not None:
        async with pool.connection() as conn, conn.transaction():
            await _move_back(conn, user_id, ends)
    return seeded.contacts


MOVE_BACK = (  # every date the follow-ups read, moved back by the same interval
    "UPDATE crm.messages SET date = date - %(shift)s WHERE user_id = %(user_id)s",
    "UPDATE crm.contact_links SET occurred_on = occurred_on - %(shift)s"
    " WHERE user_id = %(user_id)s",
    "UPDATE crm.relationships SET first_at = first_at - %(shift)s,"
    " last_at = last_at - %(shift)s WHERE user_id = %(user_id)s",
    "UPDATE crm.contacts SET first_interaction_on = first_interaction_on - %(shift)s,"
    " last_interaction_on = last_interaction_on - %(shift)s WHERE user_id = %(user_id)s",
)


async def _move_back(conn: Any, user_id: int, ends: datetime) -> None:
    query = "SELECT max(date) - %s FROM crm.messages WHERE user_id = %s"
    ((shift,),) = await (await conn.execute(query, (ends, user_id))).fetchall()
    for statement in MOVE_BACK:
        await conn.execute(statement, {"shift": shift, "user_id": user_id})


async def _board(client: httpx.AsyncClient, user: User) -> dict:
    response = await client.get("/api/followups", headers=user.auth)
    assert response.status_code == 200, response.text
    return response.json()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _overdue(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"Overdue by (\d+) day", page)]


async def test_archive__due_and_overdue_as_of_its_last_day_in_api_page_and_digest(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    contacts = await _mailbox(pool, alice.account.id, ends=ENDS)
    assert (await client.post("/api/followups/recompute", headers=alice.auth)).status_code == 200
    board = await _board(client, alice)
    assert _at(board["now"]) == ENDS + DAY  # the day after its last mail, as the scores
    assert _at(board["archive_ends"]) == ENDS
    due = {f["reason"]: f for f in board["due"]}
    assert sorted(due) == ["cold", "promise", "question"] and board["due_total"] == 3
    assert due["question"]["detail"] == QUESTION and due["promise"]["detail"] == PROMISE
    assert due["cold"]["contact_id"] == contacts["grace"]
    assert _at(due["cold"]["remind_on"]) == ENDS + DAY  # due that day, not in 2026
    for reason in ("question", "promise"):  # 3 and 4 days before its end, due 2 and 3 after
        assert (_at(board["now"]) - _at(due[reason]["remind_on"])).days == 2
    assert board["upcoming"] == board["later"] == []

    await login(client, alice.account.email)
    page = (await client.get("/followups", headers=HTML)).text
    assert NOTE in page and "Due today" in page
    assert sorted(_overdue(page)) == [2, 2]  # not by 24 years
    assert 'min="2002-03-15"' in page  # the snooze date picker starts that day
    digest = (await client.get("/followups/digest", headers=HTML)).text
    assert NOTE in digest and "Friday 15 March 2002 · 3 due" in digest

    # A snooze to a date counts from that day too: a week on, it is coming up; today's date
    # is 24 years on, and the refusal says which day the archive's follow-ups are as of.
    snooze = f"/api/followups/{due['question']['id']}/snooze"
    refused = await client.post(snooze, json={"until": "2026-12-24"}, headers=alice.auth)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "snooze for at most two years (this archive's follow-ups are as of 15 March 2002)"
    )
    snoozed = await client.post(snooze, json={"until": "2002-03-22"}, headers=alice.auth)
    assert snoozed.status_code == 200, snoozed.text
    board = await _board(client, alice)
    assert [f["id"] for f in board["upcoming"]] == [due["question"]["id"]]


async def test_archive__a_keep_in_touch_round_done_counts_from_its_last_day(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    ada = (await _mailbox(pool, alice.account.id, ends=ENDS))["ada"]
    put = await client.put(f"/api/contacts/{ada}/cadence", json={"days": 7}, headers=alice.auth)
    assert put.status_code == 200, put.text
    board = await _board(client, alice)
    (due,) = [f for f in board["due"] if f["reason"] == "cadence"]
    assert _at(due["remind_on"]) < ENDS  # in touch last in 2001: overdue as of 2002
    done = await client.post(f"/api/followups/{due['id']}/done", headers=alice.auth)
    assert done.status_code == 200, done.text
    (next_round,) = [f for f in (await _board(client, alice))["upcoming"] if f["contact_id"] == ada]
    assert _at(next_round["remind_on"]) == ENDS + DAY + 7 * DAY


async def test_live__as_of_now_and_no_note(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await _mailbox(pool, alice.account.id, ends=None)
    await client.post("/api/followups/recompute", headers=alice.auth)
    board = await _board(client, alice)
    async with pool.connection() as conn:
        now = (await (await conn.execute("SELECT now()")).fetchone())[0]
    assert board["archive_ends"] is None
    assert abs(_at(board["now"]) - now) < timedelta(minutes=1)
    due = {f["reason"]: f for f in board["due"]}
    assert sorted(due) == ["cold", "promise", "question"]
    for reason in ("question", "promise"):  # 3 and 4 days ago, due 2 and 3 days after
        assert (_at(board["now"]) - _at(due[reason]["remind_on"])).days == 1
    await login(client, alice.account.email)
    page = (await client.get("/followups", headers=HTML)).text
    assert "This archive ends" not in page and sorted(_overdue(page)) == [1, 1]
    assert "This archive ends" not in (await client.get("/followups/digest", headers=HTML)).text
