"""An owner invites a teammate: creates a link on the team page, the teammate opens it in
another browser, makes an account and joins; the owner sees them, makes them an owner and
back, and removes them; the spent link then says so. The pages fit a phone. Screenshots go to
/tmp/team-*.png; look at them when changing these pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_contacts import PASSWORD, seeded  # noqa: F401
from tests.browser.test_notes_tags import _login
from tests.integration.web.contact_seed import Seeded

SHOTS = Path("/tmp")


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"team-{name}.png"), full_page=True, caret="initial")


def test_invite_a_teammate_by_link(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
) -> None:
    owner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(owner, server)
    owner.get_by_role("link", name="Team").click()
    expect(owner.get_by_role("heading", level=1)).to_be_visible()
    owner.get_by_label("Who is it for?").fill("Sam from sales")
    owner.get_by_role("button", name="Create invite link").click()
    link = owner.get_by_label("Link to send").input_value()
    assert link.startswith(f"{server}/invite/")
    expect(owner.locator("main")).to_contain_text("Sam from sales")  # pending
    _shot(owner, "01-link")

    sam = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sam.goto(link)
    expect(sam.get_by_role("heading", level=1)).to_contain_text("Join")
    expect(sam.locator("main")).to_contain_text("invited you as a member")
    _shot(sam, "02-invite-phone")
    sam.get_by_label("Your name").fill("Sam Seller")
    sam.get_by_label("Email").fill("sam@example.com")
    sam.get_by_label("Password (at least 8 characters)").fill(PASSWORD)
    sam.get_by_role("button", name="Make my account and join").click()
    sam.wait_for_url(f"{server}/team?done=joined")
    expect(sam.get_by_role("status")).to_contain_text("you joined the workspace")
    expect(sam.locator("main")).to_contain_text("Only an owner can invite")
    assert sam.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(sam, "03-joined-phone")

    owner.goto(f"{server}/team")
    row = owner.locator("tr", has_text="sam@example.com")
    expect(row).to_contain_text("Sam Seller")
    expect(owner.locator("main")).not_to_contain_text("Pending invites")  # the link is spent
    row.get_by_label("Role of sam@example.com").select_option("owner")
    row.get_by_role("button", name="Set").click()
    expect(owner.get_by_role("status")).to_contain_text("Role changed")
    _shot(owner, "04-members")
    owner.get_by_role("button", name="Remove sam@example.com").click()
    expect(owner.get_by_role("status")).to_contain_text("Removed")
    expect(owner.locator("main")).not_to_contain_text("sam@example.com")

    sam.goto(link)
    expect(sam.locator("main")).to_contain_text("already been used")
    _shot(sam, "05-used-link")
