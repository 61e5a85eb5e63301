"""A person logs in, sees their contacts ranked by strength, filters them live, opens a contact
and reads why it scored as it did and its summary, then follows a citation to the message.
Screenshots go to the test's tmp dir (printed on failure); look at them when changing pages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts
from tests.integration.web.contact_seed import Seeded, seed_crm

EMAIL, PASSWORD = "ada.fan@example.com", "correct horse battery"


async def _seed(db_url: str) -> Seeded:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Ada's fan")
        return await seed_crm(pool, account.id)


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return asyncio.run(_seed(db_url))


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, caret="initial")


def test_contacts_ranked_then_contact_explained(
    seeded: Seeded, server: str, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/contacts")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/contacts")
    rows = page.locator("table.contacts tbody tr")
    assert rows.count() == 4
    assert rows.nth(0).get_by_text("Ada Lovelace").is_visible()
    assert rows.nth(1).get_by_text("Going cold").is_visible()
    _shot(page, tmp_path, "01-contacts")

    page.get_by_label("Search").fill("grace")
    expect(rows).to_have_count(1)  # a locator, not a string to eval: the CSP allows no eval
    assert "q=grace" in page.url
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(4)
    page.get_by_label("Level").select_option("weak")
    expect(rows).to_have_count(1)
    assert rows.nth(0).get_by_text("Linus Torvalds").is_visible()
    page.get_by_label("Level").select_option("")
    expect(rows).to_have_count(4)

    page.get_by_role("link", name="Ada Lovelace").first.click()
    page.wait_for_url(f"{server}/contacts/{seeded.contacts['ada']}")
    page.get_by_role("heading", name="Why this score").wait_for()
    assert page.get_by_text("2 two-way threads, last reply 2 days ago").is_visible()
    assert page.get_by_text("Not AI-generated").is_visible()
    assert page.get_by_text("Send the Bernoulli notes back").is_visible()
    assert page.locator("svg[role=img]").count() == 1
    _shot(page, tmp_path, "02-contact")

    page.locator("#why-title").locator("xpath=../..").get_by_role(
        "link", name="Notes on Bernoulli numbers"
    ).first.click()
    page.wait_for_url(f"{server}/messages/{seeded.messages['notes']}")
    page.get_by_role("heading", name="Notes on Bernoulli numbers").wait_for()
    _shot(page, tmp_path, "03-message")

    page.goto(f"{server}/companies/{seeded.companies['acme']}")
    page.get_by_role("heading", name="People, strongest first").wait_for()
    _shot(page, tmp_path, "04-company")

    mobile = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    small = mobile.new_page()
    for path, name in (
        (f"/contacts/{seeded.contacts['ada']}", "05-contact-mobile"),
        ("/contacts", "06-contacts-mobile"),
    ):
        small.goto(f"{server}{path}")
        overflow = small.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-wrap, .chart-wrap'))
            .map(e => e.tagName + '.' + e.className)""")
        assert overflow == [], f"{path} is wider than a phone screen: {overflow}"
        _shot(small, tmp_path, name)
    mobile.close()
    context.close()
    print(f"screenshots in {tmp_path}")
