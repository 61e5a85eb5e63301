"""A person opens the "You" page, reads which addresses are theirs and who sends from their
mailbox (with the evidence for each), and says a wrongly learned address is not them: it moves
to the delegates, without a re-import. Screenshots go to /tmp/identity-shots (look at them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts
from tests.integration.web.conftest import User
from tests.integration.web.identity_seed import AIDE, ALIAS, seed_identity

EMAIL, PASSWORD = "alice@example.com", "correct horse battery"


async def _seed(db_url: str) -> None:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Alice Example")
        await seed_identity(pool, User(account=account, token=""))


@pytest.fixture
def seeded(db_url: str) -> None:
    asyncio.run(_seed(db_url))


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, caret="initial")


def test_you_page__evidence_shown_and_a_wrong_alias_undone(
    seeded: None, server: str, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/you")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/you")
    page.get_by_role("heading", name="Your addresses").wait_for()
    aliases = page.locator("section[aria-labelledby=aliases-title] tbody tr")
    delegates = page.locator("section[aria-labelledby=delegates-title] tbody tr")
    assert aliases.count() == 2 and delegates.count() == 1
    assert aliases.nth(1).get_by_text("40 of 120 sent-folder messages (33%)").is_visible()
    assert delegates.nth(0).get_by_role("link", name=AIDE).is_visible()
    page.get_by_role("banner").locator("summary").click()  # the account menu holds "You"
    you = page.get_by_role("banner").get_by_role("link", name="You")
    assert you.get_attribute("aria-current") == "page"
    _shot(page, tmp_path, "01-you")

    page.get_by_role("button", name=f"Not me: {ALIAS}").click()
    page.wait_for_url(f"{server}/you?done=rejected")
    assert page.get_by_role("status").get_by_text("its mail counts as theirs").is_visible()
    assert aliases.count() == 1 and delegates.count() == 2
    assert delegates.get_by_text("your decision").is_visible()
    _shot(page, tmp_path, "02-you-rejected")

    page.get_by_role("link", name=AIDE).click()  # the delegate is a contact in their own right
    page.get_by_role("link", name="delegate, sent 30 for you").wait_for()
    _shot(page, tmp_path, "03-delegate-contact")
    context.close()
    print(f"screenshots in {tmp_path}")
