"""A person logs in, uploads an mbox on the connections page, clicks Sync and watches the status
change live while a worker imports it; then pauses, resumes and deletes it, and tries the IMAP
form with a wrong port. Screenshots go to the test's tmp directory (look at them)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from tests.browser.conftest import _free_port
from tests.helpers import work_until_idle
from tests.integration.web.connections_support import connection_settings, ensure_queues, write_mbox

EMAIL, PASSWORD = "sam@example.com", "correct horse battery"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    (tmp_path / "data").mkdir()
    return connection_settings(db_url, tmp_path / "data")


@pytest.fixture
def site(settings: Settings) -> Iterator[str]:
    asyncio.run(_seed(settings))
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        thread.join(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


async def _seed(settings: Settings) -> None:
    async with _pool(settings) as pool:
        await accounts.create_user(pool, EMAIL, PASSWORD, name="Sam")
        await ensure_queues(JobQueue(pool, listen=False))


def _pool(settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(settings.database_url or "", min_size=1, max_size=4,
                               kwargs={"autocommit": True}, open=False)  # fmt: skip


async def _work_syncs(settings: Settings) -> int:
    """The worker service's handlers over the queued syncs until each run has ended (read,
    its extraction, its analysis, its search rows), as `fluffymail worker` runs them; how many
    runs."""
    async with _pool(settings) as pool:
        queue = JobQueue(pool, poll_interval=0.1)
        deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
        registry = build_registry(deps, SystemClock())
        runs = await queue.find_jobs(name=sync_emails.QUEUE, states=["created", "retry"])
        names = (sync_emails.QUEUE, "extract-contacts", "analyze-relationships", "index-messages")
        await work_until_idle(queue, registry, names)
        return len(runs)


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to the end in its own thread (Playwright owns this thread's loop)."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join(60)
    return out[0]


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, caret="initial")


def test_upload_sync_pause_delete(
    site: str, settings: Settings, browser: Any, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    mbox = write_mbox(tmp_path / "team-archive.mbox", range(40))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{site}/connections")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/connections")
    page.get_by_role("heading", name="No mailboxes connected yet").wait_for()
    _shot(page, shots, "01-empty")

    page.get_by_label("Mailbox file").set_input_files(str(mbox))
    page.get_by_label("Name for this archive (optional)").fill("Team archive")
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_text("Team archive uploaded; importing it now.").wait_for()
    card = page.locator("li.conn", has_text="Team archive")
    card.get_by_text("Not synced yet").wait_for()  # the list refreshed by itself
    _shot(page, shots, "02-uploaded")

    page.get_by_role("button", name="Sync Team archive now").click()
    page.get_by_text("A sync is already queued for this connection.").wait_for()
    assert _in_thread(_work_syncs(settings)) == 1  # the worker runs the queued sync
    card.get_by_text("Up to date").wait_for()  # htmx polling shows the change
    assert "40 new of 40 read" in card.inner_text()
    _shot(page, shots, "03-synced")

    card.get_by_role("button", name="Pause Team archive").click()
    card.get_by_text("Paused", exact=True).wait_for()
    assert card.get_by_role("button", name="Sync Team archive now").count() == 0
    _shot(page, shots, "04-paused")
    card.get_by_role("button", name="Resume Team archive").click()
    page.get_by_text("Resumed Team archive").wait_for()

    page.get_by_label("Server").fill("imap.example.com")
    page.get_by_label("Port").fill("99999")
    page.get_by_label("User name").fill("sam")
    page.get_by_label("Password", exact=True).fill("secret")
    page.get_by_role("button", name="Check and add").click()
    page.get_by_text("Use a port from 1 to 65535.").wait_for()
    assert page.get_by_label("Server").input_value() == "imap.example.com"
    assert page.get_by_label("Password", exact=True).input_value() == ""  # never echoed back
    _shot(page, shots, "05-imap-error")

    card.get_by_role("button", name="Delete Team archive").click()
    page.get_by_text("Deleting Team archive").wait_for()
    card.get_by_text("Deleting", exact=True).wait_for()
    _shot(page, shots, "06-deleting")

    mobile = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    small = mobile.new_page()
    small.goto(f"{site}/connections")
    small.get_by_role("heading", name="Add a mailbox").wait_for()
    overflow = small.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('pre'))
        .map(e => e.tagName + '.' + e.className)""")
    assert overflow == [], f"wider than a phone screen: {overflow}"
    _shot(small, shots, "07-mobile")
    mobile.close()
    context.close()
    print(f"screenshots: {shots}")
