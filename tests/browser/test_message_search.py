"""A person searches their mail (issue 14): opens Messages from the navigation, searches a word,
sees the best match first with the word marked in its subject and excerpt, narrows to mail with
attachments, opens a result; on the contacts list a search shows who wrote about it.
Screenshots go to /tmp/message-search-*.png."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts
from tests.integration.web.contact_seed import _contact, _message

EMAIL, PASSWORD = "alice@example.com", "correct horse battery"
SHOTS = Path("/tmp")
ME = (EMAIL, "Alice Example")


async def _seed(db_url: str) -> None:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Alice Example")
        uid = account.id
        async with pool.connection() as conn:
            await _contact(conn, uid, "ann.lee@acme.test", "Ann Lee", None, received=2)
            await _contact(conn, uid, "bo.chen@globex.test", "Bo Chen", None, received=1)
            at = datetime(2026, 11, 2, 9, tzinfo=UTC)
            mail = [
                ("ann.lee@acme.test", "Ann Lee", "Pilot budget for Q1",
                 "Hi Alice, the pilot budget is ready: 40k for the first quarter. The signed "
                 "order form follows tomorrow."),
                ("bo.chen@globex.test", "Bo Chen", "Lunch next week?",
                 "Are you free for lunch? We could also talk about the pilot."),
                ("ann.lee@acme.test", "Ann Lee", "Re: Pilot budget for Q1",
                 "Attached is the revised budget with the pilot numbers."),
                ("news@letters.test", "Newsletter", "Weekly digest",
                 "Ten stories about budgets you will not read."),
            ]  # fmt: skip
            for n, (address, name, subject, body) in enumerate(mail):
                mid = await _message(
                    conn, uid, f"m{n}", subject, (address, name), ME,
                    at + timedelta(days=n), body,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO crm.contact_links (message_id, address, role, user_id,"
                    " occurred_on, visible) VALUES (%s, %s, 'received_from', %s, %s, true)",
                    (mid, address, uid, at + timedelta(days=n)),
                )
                if subject.startswith("Re:"):
                    await conn.execute(
                        "UPDATE crm.messages SET has_attachment = true WHERE id = %s", (mid,)
                    )


@pytest.fixture
def seeded(db_url: str) -> None:
    asyncio.run(_seed(db_url))


def test_message_search__find_narrow_open(seeded: None, server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/contacts")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/contacts")

    page.get_by_role("link", name="Messages", exact=True).click()
    page.get_by_role("heading", name="Messages", exact=True).wait_for()
    assert page.locator(".message-item").count() == 4  # newest first
    assert page.locator(".message-subject").first.inner_text() == "Weekly digest"

    page.get_by_label("Search mail").fill("pilot budget")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/messages?q=pilot+budget*")
    items = page.locator(".message-item")
    assert items.count() == 2  # both words: not the lunch mail, not the digest ("budgets")
    assert page.get_by_role("heading", name="2 messages match “pilot budget”").is_visible()
    first = items.nth(0)
    assert first.locator(".message-subject mark").first.inner_text().lower() in ("pilot", "budget")
    assert first.locator(".message-excerpt mark").count() >= 1
    page.screenshot(path=str(SHOTS / "message-search-1-results.png"), full_page=True,
                    caret="initial")  # fmt: skip

    page.get_by_label("With attachments").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**attachment=1**")
    assert items.count() == 1
    assert items.nth(0).get_by_text("attachment").is_visible()
    page.screenshot(path=str(SHOTS / "message-search-2-attachments.png"), full_page=True,
                    caret="initial")  # fmt: skip
    items.nth(0).locator(".message-subject").click()
    page.get_by_role("heading", name="Re: Pilot budget for Q1").wait_for()
    assert page.get_by_text("revised budget").is_visible()

    page.goto(f"{server}/contacts")
    page.get_by_label("Search").fill("pilot")
    writers = page.locator("#message-writers")
    writers.wait_for()
    assert writers.get_by_role("heading", name="People who wrote about “pilot”").is_visible()
    names = writers.locator(".person-name").all_inner_texts()
    assert names == ["Ann Lee", "Bo Chen"]  # Ann wrote two, Bo one
    assert writers.get_by_role("link", name="2 messages").is_visible()
    page.screenshot(path=str(SHOTS / "message-search-3-contacts-writers.png"), full_page=True,
                    caret="initial")  # fmt: skip
    writers.get_by_role("link", name="2 messages").click()
    page.wait_for_url("**/messages?q=pilot&from_contact=*")
    assert page.locator(".message-item").count() == 2

    phone = browser.new_context(viewport={"width": 390, "height": 800})
    small = phone.new_page()
    small.context.add_cookies(context.cookies())
    small.goto(f"{server}/messages?q=pilot")
    small.screenshot(path=str(SHOTS / "message-search-4-phone.png"), full_page=True,
                     caret="initial")  # fmt: skip
    context.close()
    phone.close()
