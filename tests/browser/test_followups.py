"""A person sets a keep-in-touch cadence on a contact, opens Follow-ups, sees what is due and
why (with the message that caused it), completes one, snoozes one to a date and one until they
write; the page fits a phone. Screenshots go to /tmp/crm-followups-*.png: look at them when
changing these pages."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts
from tests.browser.test_contacts import EMAIL, PASSWORD
from tests.integration.web.contact_seed import Seeded, seed_crm
from tests.integration.web.followup_seed import QUESTION, seed_loops

SHOTS = Path("/tmp")


async def _seed(db_url: str) -> Seeded:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Ada's fan")
        seeded = await seed_crm(pool, account.id)
        await seed_loops(pool, account.id)
        return seeded


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return asyncio.run(_seed(db_url))


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"crm-followups-{name}.png"), full_page=True, caret="initial")


def _login(page: Any, server: str) -> None:
    page.goto(f"{server}/followups")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/**")


def test_set_a_cadence_then_complete_and_snooze_follow_ups(
    seeded: Seeded, server: str, browser: Any
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    ada = seeded.contacts["ada"]
    page.goto(f"{server}/contacts/{ada}")
    page.get_by_label("Keep in touch every").fill("30")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.get_by_label("Keep in touch every")).to_have_value("30")
    expect(page.locator(".activity-log")).to_contain_text("set keep-in-touch to every 30 days")
    _shot(page, "01-contact-cadence")

    page.get_by_role("link", name="Follow-ups", exact=True).first.click()
    page.get_by_role("button", name="Recompute").click()
    due = page.locator("section", has=page.locator("#due-title"))
    expect(due.locator("li.followup")).to_have_count(4)
    question = due.locator("li.followup", has_text="They asked")
    expect(question).to_contain_text(QUESTION)
    expect(question.get_by_role("link", name="About question")).to_have_attribute(
        "href", re.compile(r"^/messages/\d+$")
    )
    _shot(page, "02-board")

    # Done: Ada's cadence leaves "Due now" and comes back in 30 days.
    cadence = due.locator("li.followup", has_text="Keep in touch")
    cadence.get_by_role("button", name="Done").click()
    expect(due.locator("li.followup")).to_have_count(3)
    upcoming = page.locator("section", has=page.locator("#upcoming-title"))
    expect(upcoming).to_have_count(0)  # 30 days on is beyond "coming up" (14 days)

    # Snooze Linus's question to a date four days on.
    question = due.locator("li.followup", has_text="They asked")
    question.locator("summary", has_text="Snooze").click()
    day = (datetime.now(UTC) + timedelta(days=4)).date().isoformat()
    question.get_by_label("Until").fill(day)
    question.get_by_role("button", name="Snooze to date").click()
    expect(due.locator("li.followup")).to_have_count(2)
    upcoming = page.locator("section", has=page.locator("#upcoming-title"))
    expect(upcoming.locator("li.followup")).to_contain_text(QUESTION)
    expect(upcoming.locator("li.followup")).to_contain_text("snoozed")

    # Snooze the promise until they write.
    promise = due.locator("li.followup", has_text="You promised")
    promise.locator("summary", has_text="Snooze").click()
    promise.get_by_role("button", name="Until they write").click()
    waiting = page.locator("section", has=page.locator("#waiting-title"))
    expect(waiting.locator("li.followup")).to_contain_text("You promised")
    _shot(page, "03-after-done-and-snooze")

    page.get_by_role("link", name="Today's digest").click()
    expect(page.get_by_role("heading", name="Today's digest")).to_be_visible()
    _shot(page, "04-digest")


def test_follow_ups_fit_a_phone(seeded: Seeded, server: str, browser: Any) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    _login(page, server)
    page.goto(f"{server}/followups")
    page.get_by_role("button", name="Recompute").click()
    due = page.locator("section", has=page.locator("#due-title"))
    expect(due.locator("li.followup")).to_have_count(3)
    row = due.locator("li.followup", has_text="They asked")
    row.locator("summary", has_text="Snooze").click()
    expect(row.get_by_role("button", name="Until they write")).to_be_visible()
    _shot(page, "05-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    row.get_by_role("button", name="Until they write").click()
    expect(due.locator("li.followup")).to_have_count(2)
    done = due.locator("li.followup").first
    done.get_by_role("button", name="Done").click()
    expect(due.locator("li.followup")).to_have_count(1)
    _shot(page, "06-phone-after")
