"""A logged-in person opens every page with a bad id and with bad query values (the pages are
read from the app, so a new page is covered without editing this test): each error page keeps
the navigation bar and says in plain words what went wrong, with a link back; never a
validation message, a field path or a traceback. Screenshots of a 404 and a 400 page go to
test-artifacts/ (not committed); look at them when changing the error page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from tests.integration.web.page_routes import bad_urls, developer_text, page_routes

EMAIL, PASSWORD = "ops@example.com", "correct horse battery"
# The pages are shared out among this many tests, so that each ends well inside the timeout on
# a slow machine and the pytest workers can take them side by side.
PARTS = 4
# What a person sees on the page, read in the browser in one call: the text, whether the main
# navigation and its Contacts link are visible (Playwright's `is_visible`: a box with a size and
# not `visibility: hidden`), the main heading, the error message and how many links lead back.
SHOWN = """() => {
  const visible = (el) => {
    if (!el || !el.checkVisibility({ visibilityProperty: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const nav = document.querySelector('nav[aria-label="Main"]');
  const contacts = nav && [...nav.querySelectorAll("a")].find((a) => a.innerText.trim() === "Contacts");
  const main = document.querySelector("main");
  const text = (selector) => main?.querySelector(selector)?.innerText ?? "";
  return {
    text: document.body.innerText,
    nav: visible(nav),
    contacts_link: visible(contacts),
    heading: text("h1"),
    message: text(".error-message"),
    links: main ? main.querySelectorAll(".error-links a").length : 0,
  };
}"""


async def _admin(db_url: str) -> None:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        await accounts.create_user(pool, EMAIL, PASSWORD, name="Ops", is_admin=True)


@pytest.fixture
def admin(db_url: str) -> None:
    asyncio.run(_admin(db_url))


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_every_page_with_bad_input__plain_error_in_the_layout(
    part: int, admin: None, db_url: str, server: str, browser: Any, artifacts: Path
) -> None:
    urls = bad_urls(page_routes(create_app(Settings(database_url=db_url))))[part::PARTS]
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/contacts")

    errors = 0
    for bad in urls:
        response = page.goto(f"{server}{bad.url}")
        assert response is not None, bad.url
        shown = page.evaluate(SHOWN)  # one round trip per page, not one per check
        assert response.status < 500, bad.url
        assert developer_text(shown["text"]) == [], (bad.url, developer_text(shown["text"]))
        if bad.bad_path:
            assert response.status == 404, bad.url
        if response.status < 400:
            continue
        errors += 1
        assert shown["nav"] and shown["contacts_link"], bad.url
        assert shown["heading"].strip(), bad.url
        assert len(shown["message"].strip()) >= 10, bad.url
        assert shown["links"] >= 1, bad.url
    assert errors >= len([u for u in urls if u.bad_path]) + 1  # a bad query value is refused too
    if part:
        return
    page.goto(f"{server}/contacts/abc")
    assert page.get_by_role("heading", name="We couldn't find that contact").is_visible()
    nav = page.get_by_role("navigation", name="Main")  # what SHOWN reads, by role and name
    assert nav.is_visible() and nav.get_by_role("link", name="Contacts").is_visible()
    page.screenshot(path=str(artifacts / "error-404.png"), full_page=True)
    page.goto(f"{server}/contacts?people=all")
    assert page.get_by_text("There is no people filter called “all”.").is_visible()
    page.screenshot(path=str(artifacts / "error-400.png"), full_page=True)
    page.get_by_role("link", name="All contacts").click()
    page.wait_for_url(f"{server}/contacts")
