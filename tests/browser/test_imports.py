"""A person imports a CSV of contacts with a bad row: from the contacts page to the import
page, uploads the file, reads the preview (the bad rows and why, how each column was read),
confirms, and watches the report update when the import job has run; the pages fit a phone.
Screenshots go to /tmp/crm-import-*.png; look at them when changing these pages."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import import_records
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from tests.browser.test_contacts import seeded  # noqa: F401
from tests.browser.test_notes_tags import _login
from tests.integration.web.contact_seed import Seeded

SHOTS = Path("/tmp")
CSV = (
    "First Name,Last Name,E-mail Address,Company,Job Title,Mobile Phone,Categories,Notes\n"
    "Katherine,Johnson,katherine@nasa.gov,NASA,Mathematician,+1 757 864 1000,Pioneers,"
    "Computed the trajectories\n"
    "Dorothy,Vaughan,dorothy@nasa.gov,,Supervisor,,Pioneers;FORTRAN,\n"
    "Typo,Person,typo.example.com,,,,,\n"
)


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"crm-import-{name}.png"), full_page=True, caret="initial")


def _run_import_job(db_url: str, user_id: int, run_id: int) -> None:
    """What the worker does with the queued job."""

    async def run() -> None:
        async with AsyncConnectionPool(
            db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
        ) as pool:
            queue = JobQueue(pool, listen=False)
            if "analyze-relationships" not in await queue.get_queues():
                await queue.create_queue("analyze-relationships")
            deps = JobDeps(settings=Settings(), pool=pool, queue=queue, log=logging.getLogger("t"))
            args = import_records.Args(run_id=run_id, user_id=user_id)
            await import_records.run_import(deps, SystemClock(), args)

    with ThreadPoolExecutor(1) as pool:  # Playwright's own loop runs in this thread
        pool.submit(lambda: asyncio.run(run())).result()


def test_upload_a_csv_with_a_bad_row_then_import_the_good_ones(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
    db_url: str,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    page.get_by_role("link", name="Import and export").click()
    expect(page.get_by_role("heading", name="Import and export", level=1)).to_be_visible()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    _shot(page, "01-upload")
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(f"{server}/import/*")
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    status = page.get_by_role("status").first
    expect(status).to_contain_text("2 contacts ready to import: 2 new, 0 already yours")
    problems = page.locator("table.import-problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("4")
    expect(problems.first).to_contain_text("“typo.example.com” is not an email address")
    expect(page.locator("main")).to_contain_text("Job title")
    _shot(page, "02-preview")

    page.get_by_role("button", name="Import 2 contacts").click()
    expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
    _shot(page, "03-importing")
    run_id = int(page.url.rsplit("/", 1)[1])
    _run_import_job(db_url, seeded.user_id, run_id)
    expect(page.get_by_role("heading", name="Imported", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("2 contacts added, 0 updated")
    rows = page.locator("table.import-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("added")
    _shot(page, "04-report")

    rows.first.get_by_role("link", name="Katherine Johnson").click()
    expect(page.locator("main")).to_contain_text("Mathematician")
    expect(page.locator("main")).to_contain_text("added it from")
    _shot(page, "05-contact")

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _login(phone, server)
    phone.goto(f"{server}/import/{run_id}")
    scroll = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 390, f"the report is {scroll}px wide on a 390px screen"
    _shot(phone, "06-phone")
