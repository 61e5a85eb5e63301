"""A person opens Groups, sees a distribution list found in their mail (not among their people)
and opens it to see who writes to it; a group named in the headers (`To: Team: a@x, b@y;`) is
listed by name and shown on its message. Screenshots go to /tmp/trust-addresses-groups-*.png
and /tmp/groups-finish-*.png."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.web.services import accounts
from tests.integration.web.contact_seed import _contact, _message

EMAIL, PASSWORD = "alice@example.com", "correct horse battery"
DL = "dl-west-desk@acme.test"
SHOTS = Path("/tmp")


async def _seed(db_url: str) -> int:
    """Alice's mail; answers the id of her message to a named group."""
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Alice Example")
        async with pool.connection() as conn:
            group = await _contact(conn, account.id, DL, "West Desk", None, received=3)
            await conn.execute(
                "UPDATE crm.contacts SET kind = 'group', kind_reason = 'dl_address' WHERE id = %s",
                (group,),
            )
            await _contact(conn, account.id, "ann.lee@acme.test", "Ann Lee", None, received=2)
            at = datetime(2026, 11, 2, 9, tzinfo=UTC)
            to_the_desk = []
            for n, (who, name) in enumerate(
                [("ann.lee@acme.test", "Ann Lee")] * 2 + [("carl.diaz@acme.test", "Carl Diaz")]
            ):
                to_the_desk.append(await _message(
                    conn, account.id, f"dl{n}", f"Desk notes {n}", (who, name), (DL, "West Desk"),
                    at + timedelta(days=n), "Notes for the desk.",
                ))  # fmt: skip
            # processed as extraction processes mail, which counts who writes to a list (0057)
            await contacts_repo.insert_links(conn, account.id, [], [(m, None) for m in to_the_desk])
            named = await _message(
                conn, account.id, "named", "Board minutes", (EMAIL, "Alice Example"),
                ("bo.lee@acme.test", "Bo Lee"), at + timedelta(days=5), "Minutes attached.",
            )  # fmt: skip
            group = {
                "header": "to",
                "name": "Board of Directors",
                "members": ["ann.lee@acme.test", "bo.lee@acme.test"],
            }
            await conn.execute(
                "UPDATE crm.messages SET extra_headers = jsonb_build_object("
                "'address_groups', jsonb_build_array(%s::jsonb)) WHERE id = %s",
                (json.dumps(group), named),
            )
    return named


@pytest.fixture
def seeded(db_url: str) -> int:
    return asyncio.run(_seed(db_url))


def test_groups_page__a_list_with_the_people_who_write_to_it(
    seeded: int, server: str, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/groups")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/groups")
    page.get_by_role("heading", name="Groups", exact=True).wait_for()
    rows = page.locator("section[aria-labelledby=groups-title] tbody tr")
    assert rows.count() == 1
    assert rows.nth(0).get_by_text("distribution list").is_visible()
    assert (
        page.get_by_role("link", name="Groups", exact=True).get_attribute("aria-current") == "page"
    )
    page.screenshot(path=str(SHOTS / "trust-addresses-groups-1-list.png"), full_page=True,
                    caret="initial")  # fmt: skip

    page.get_by_role("link", name="West Desk").click()
    page.get_by_role("heading", name="Members").wait_for()
    members = page.locator("section[aria-labelledby=members-title] tbody tr")
    assert members.count() == 2
    assert members.nth(0).get_by_role("link", name="Ann Lee").is_visible()  # a contact: linked
    assert members.nth(1).get_by_text("Carl Diaz").is_visible()  # not a contact: named only
    page.screenshot(path=str(SHOTS / "trust-addresses-groups-2-members.png"), full_page=True,
                    caret="initial")  # fmt: skip

    page.goto(f"{server}/groups")
    named = page.locator("section[aria-labelledby=named-title] tbody tr")
    assert named.count() == 1
    assert named.nth(0).get_by_text("Board of Directors").is_visible()
    page.screenshot(path=str(SHOTS / "groups-finish-1-named.png"), full_page=True,
                    caret="initial")  # fmt: skip
    page.goto(f"{server}/messages/{seeded}")
    page.get_by_text("To group").wait_for()
    assert page.get_by_text("Board of Directors").is_visible()
    page.screenshot(path=str(SHOTS / "groups-finish-2-message.png"), full_page=True,
                    caret="initial")  # fmt: skip

    phone = browser.new_context(viewport={"width": 390, "height": 800})
    small = phone.new_page()
    small.context.add_cookies(context.cookies())
    small.goto(f"{server}/groups")
    small.screenshot(path=str(SHOTS / "trust-addresses-groups-3-phone.png"), full_page=True,
                     caret="initial")  # fmt: skip
    context.close()
    phone.close()
