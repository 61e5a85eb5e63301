"""A person imports an .ics file on the connections page, then finds the meeting on the
contact's page: in the timeline and as "Last meeting" in the Activity panel. Screenshots go to
/tmp/crm-calendar-*.png: look at them when changing these pages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts
from tests.browser.test_contacts import EMAIL, PASSWORD

SHOTS = Path("/tmp")


def _ics() -> bytes:
    start = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y%m%dT120000Z")
    end = start.replace("T120000Z", "T130000Z")
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:lunch-1@t\n"
        f"DTSTART:{start}\nDTEND:{end}\nSUMMARY:Lunch with Rita\nLOCATION:Cafe Nord\n"
        "ORGANIZER;CN=Rita Moreno:mailto:rita@nord.example\n"
        "ATTENDEE;CN=Rita Moreno;PARTSTAT=ACCEPTED:mailto:rita@nord.example\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{EMAIL}\nEND:VEVENT\nEND:VCALENDAR\n"
    ).encode()


async def _seed(db_url: str) -> None:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        await accounts.create_user(pool, EMAIL, PASSWORD, name="Dana")


@pytest.fixture
def user(db_url: str) -> None:
    asyncio.run(_seed(db_url))


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"crm-calendar-{name}.png"), full_page=True, caret="initial")


def test_import_ics_then_see_the_meeting_on_the_contact(
    server: str, user: None, browser: Any, tmp_path: Path
) -> None:
    ics = tmp_path / "calendar.ics"
    ics.write_bytes(_ics())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/connections")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/connections")
    form = page.locator("#ics-form")
    form.get_by_label("Calendar file").set_input_files(str(ics))
    form.get_by_label("New contacts").select_option("sent_and_received")
    form.get_by_role("button", name="Import meetings").click()
    expect(page.locator("#ics-form [role=status]")).to_contain_text("1 meeting imported")
    _shot(page, "import")
    page.goto(f"{server}/contacts?q=rita")
    page.get_by_role("link", name="Rita Moreno").first.click()
    expect(page.locator(".tl-meeting")).to_contain_text("Lunch with Rita")
    expect(page.locator('[data-figure="last-meeting"]')).to_be_visible()
    _shot(page, "contact")
