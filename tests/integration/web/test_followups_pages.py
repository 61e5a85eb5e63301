"""Follow-ups through the pages' forms: a cadence set on the contact page and from the list's
ticked contacts, refused input explained in words with nothing written, snooze and done from
the Follow-ups page, the digest page and setting."""

from __future__ import annotations

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.followup_seed import QUESTION, keep_live, seed_loops
from tests.integration.web.page_routes import developer_text

HTML = {"accept": "text/html"}


async def _rows(pool: AsyncConnectionPool, query: str) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query)).fetchall()


async def _browser(client: httpx.AsyncClient) -> str:
    await login(client, "alice@example.com")
    return session_csrf((await client.get("/followups", headers=HTML)).text)


async def test_cadence_forms__set_one_and_many_then_shown(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    ada, grace = seeded.contacts["ada"], seeded.contacts["grace"]
    csrf = await _browser(client)
    one = await client.post(
        f"/contacts/{ada}/cadence", data={"days": "30", "csrf_token": csrf}, headers=HTML
    )
    assert one.status_code == 303 and one.headers["location"] == f"/contacts/{ada}#followups"
    page = (await client.get(f"/contacts/{ada}", headers=HTML)).text
    assert 'value="30"' in page and "set keep-in-touch to every 30 days" in page
    many = await client.post(
        "/contacts/cadence",
        data={"contact_ids": [str(ada), str(grace)], "days": "14", "csrf_token": csrf,
              "back": "?sort=name"},
        headers=HTML,
    )  # fmt: skip
    assert many.status_code == 303 and many.headers["location"] == "/contacts?sort=name"
    assert sorted(await _rows(pool, "SELECT days FROM crm.contact_cadences")) == [(14,), (14,)]
    board = (await client.get("/followups", headers=HTML)).text
    assert "Keep in touch every 14 days" in board and "Ada Lovelace" in board


@pytest.mark.parametrize("days", ["0", "-3", "9999", "often", "1.5"])
async def test_cadence_form__refused_in_words_and_nothing_written(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, days: str
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    csrf = await _browser(client)
    for url, data in (
        (f"/contacts/{seeded.contacts['ada']}/cadence", {"days": days}),
        ("/contacts/cadence", {"days": days, "contact_ids": [str(seeded.contacts["ada"])]}),
    ):
        response = await client.post(url, data={**data, "csrf_token": csrf}, headers=HTML)
        assert response.status_code == 400, (url, response.text[-500:])
        assert "cadence" in response.text.lower() and not developer_text(response.text)
    assert await _rows(pool, "SELECT * FROM crm.contact_cadences") == []
    assert await _rows(pool, "SELECT * FROM crm.activity") == []


async def test_board_forms__snooze_done_and_bad_dates(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    csrf = await _browser(client)
    assert (await client.post("/followups/recompute", data={"csrf_token": csrf})).is_redirect
    ((question,),) = await _rows(pool, "SELECT id FROM crm.followups WHERE reason = 'question'")
    board = (await client.get("/followups", headers=HTML)).text
    assert QUESTION in board and f"/followups/{question}/snooze" in board
    for bad in ("", "tomorrow", "2001-01-01"):
        refused = await client.post(
            f"/followups/{question}/snooze", data={"until": bad, "csrf_token": csrf}, headers=HTML
        )
        assert refused.status_code == 400 and not developer_text(refused.text)
    assert await _rows(pool, f"SELECT state FROM crm.followups WHERE id = {question}") == [
        ("open",)
    ]
    waiting = await client.post(
        f"/followups/{question}/snooze", data={"until_reply": "1", "csrf_token": csrf}
    )
    assert waiting.status_code == 303
    assert "Waiting for them to write" in (await client.get("/followups", headers=HTML)).text
    done = await client.post(f"/followups/{question}/done", data={"csrf_token": csrf})
    assert done.status_code == 303
    again = await client.post(
        f"/followups/{question}/dismiss", data={"csrf_token": csrf}, headers=HTML
    )
    assert again.status_code == 409 and "already done" in again.text


async def test_digest__page_and_setting(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    await keep_live(pool, alice.account.id)  # a live mailbox: due as of now
    csrf = await _browser(client)
    await client.post(
        f"/contacts/{seeded.contacts['ada']}/cadence", data={"days": "7", "csrf_token": csrf}
    )
    page = (await client.get("/followups/digest", headers=HTML)).text
    assert "Keep in touch" in page and "Ada Lovelace" in page and "the daily event is off" in page
    saved = await client.post("/followups/settings", data={"digest": "1", "csrf_token": csrf})
    assert saved.status_code == 303
    assert await _rows(pool, "SELECT digest FROM crm.followup_settings") == [(True,)]
    assert "also recorded each morning" in (await client.get("/followups/digest")).text


async def test_board_forms__reopen_from_the_notice_and_the_contact_page(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """QA: a follow-up marked done or dismissed on the page was gone for good. The page it
    comes back to offers to reopen it, the contact's page lists those done or dismissed
    lately with a Reopen button, and the history says who reopened it."""
    seeded = await seed_crm(pool, alice.account.id)
    await seed_loops(pool, alice.account.id)
    csrf = await _browser(client)
    assert (await client.post("/followups/recompute", data={"csrf_token": csrf})).is_redirect
    ((question,),) = await _rows(pool, "SELECT id FROM crm.followups WHERE reason = 'question'")
    reopen_form = f'action="/followups/{question}/reopen"'

    done = await client.post(f"/followups/{question}/done", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/followups?done={question}"
    page = (await client.get(done.headers["location"], headers=HTML)).text
    assert "Marked done: They asked" in page and reopen_form in page
    reopened = await client.post(f"/followups/{question}/reopen", data={"csrf_token": csrf})
    assert reopened.status_code == 303
    board = (await client.get(reopened.headers["location"], headers=HTML)).text
    assert QUESTION in board and f"/followups/{question}/done" in board
    assert reopen_form not in board

    linus = seeded.contacts["linus"]  # who asked
    await client.post(f"/followups/{question}/dismiss", data={"csrf_token": csrf})
    contact = (await client.get(f"/contacts/{linus}", headers=HTML)).text
    assert "Done or dismissed lately" in contact and reopen_form in contact
    assert "marked a follow-up dismissed" in contact
    assert (
        await client.post(f"/followups/{question}/reopen", data={"csrf_token": csrf})
    ).is_redirect
    contact = (await client.get(f"/contacts/{linus}", headers=HTML)).text
    assert "reopened a follow-up marked dismissed" in contact and reopen_form not in contact
    # A stale or foreign id in the address shows the board without a notice.
    for query in (f"done={question}", "dismiss=999999", "done=abc", f"done={'9' * 30}"):
        page = await client.get(f"/followups?{query}", headers=HTML)
        assert page.status_code == 200 and reopen_form not in page.text, query
