"""Issue 12, section 5 in a browser: a person uploads a mailbox that holds only received mail, sees
why it made no contacts ("3 people wrote to you; …"), clicks through to the people who wrote,
adds one, switches the mailbox's contact policy (on the people page, then back on the
connections page) and sees the contacts appear and go, the added one staying.

Screenshots: /tmp/trust-explain-*.png (look at them)."""

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
from fluffymail.jobs import (
    apply_contact_policy,
    build_registry,
    extract_contacts,
    index_messages,
    sync_emails,
)
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from tests.browser.conftest import _free_port
from tests.helpers import work_until_idle
from tests.integration.web.connections_support import connection_settings
from tests.integration.web.policy_seed import inbox

EMAIL, PASSWORD = "sam@example.com", "correct horse battery"
SHOTS = Path("/tmp")


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


def _pool(settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(settings.database_url or "", min_size=1, max_size=4,
                               kwargs={"autocommit": True}, open=False)  # fmt: skip


def _deps(settings: Settings, pool: AsyncConnectionPool) -> JobDeps:
    queue = JobQueue(pool, listen=False, poll_interval=0.1)
    return JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))


async def _seed(settings: Settings) -> None:
    async with _pool(settings) as pool:
        await accounts.create_user(pool, EMAIL, PASSWORD, name="Sam")
        deps = _deps(settings, pool)
        await runner.prepare(deps.queue, build_registry(deps, SystemClock()))


async def _work(settings: Settings, *queues: str) -> int:
    """The worker service's handlers over `queues` until they are idle; jobs completed."""
    async with _pool(settings) as pool:
        deps = _deps(settings, pool)
        return await work_until_idle(deps.queue, build_registry(deps, SystemClock()), queues)


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to the end in its own thread (Playwright owns this thread's loop)."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join(60)
    return out[0]


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"trust-explain-{name}.png"), full_page=True, caret="initial")


def _contacts(page: Any, site: str) -> str:
    page.goto(f"{site}/contacts")
    page.get_by_role("heading", name="Contacts").first.wait_for()
    return page.locator("main").inner_text()


def test_inbox_only_import_explains_and_the_policy_switches(
    site: str, settings: Settings, browser: Any, tmp_path: Path
) -> None:
    mbox = inbox(tmp_path, EMAIL)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site}/connections")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/connections")

    page.get_by_label("Mailbox file").set_input_files(str(mbox))
    page.get_by_label("Name for this archive (optional)").fill("Inbox export")
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_text("Inbox export uploaded; importing it now.").wait_for()
    # The worker imports it and finds the people in it.
    # one sync run, one extraction batch, one search batch: read, extracted, analysed, indexed
    queues = (sync_emails.QUEUE, extract_contacts.QUEUE, index_messages.QUEUE)
    assert _in_thread(_work(settings, *queues)) == 3
    card = page.locator("li.conn", has_text="Inbox export")
    card.get_by_text("Up to date").wait_for()
    explanation = card.locator(".conn-people")
    explanation.get_by_text("3 people wrote to you").wait_for()
    assert "7 new of 7 read" in card.inner_text()
    assert (
        "3 people wrote to you; they become contacts once you write to them or when you add them"
        in explanation.inner_text()
    )
    assert "1 message was newsletters or automated mail" in explanation.inner_text()
    _shot(page, "01-connections-explained")

    card.get_by_role("link", name="See the 3 who wrote").click()
    page.get_by_role("heading", name="People who wrote to you").wait_for()
    rows = page.locator("tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").nth(2).inner_text() for i in range(3)] == ["3", "2", "1"]
    assert "Ann Writer" in rows.nth(0).inner_text()
    assert page.get_by_label("People I write to").is_checked()
    _shot(page, "02-people-who-wrote")
    mobile = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    small = mobile.new_page()
    small.goto(page.url)
    small.get_by_role("heading", name="People who wrote to you").wait_for()
    overflow = small.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-wrap'))
        .map(e => e.tagName + '.' + e.className)""")
    assert overflow == [], f"wider than a phone screen: {overflow}"
    _shot(small, "02b-people-mobile")
    mobile.close()

    page.get_by_role("button", name="Add Cy Writer as a contact").click()
    page.get_by_text("Added: 1 person is now a contact").wait_for()
    assert page.locator("tbody tr").count() == 2
    _shot(page, "03-added-one")
    assert "Cy Writer" in _contacts(page, site)
    page.go_back()

    page.goto(page.url.split("?")[0])
    page.get_by_label("Everyone I write to or who writes to me").check()
    page.get_by_role("button", name="Save policy").click()
    page.get_by_text("New contacts now come from everyone you write to").wait_for()
    assert _in_thread(_work(settings, apply_contact_policy.QUEUE)) == 1
    page.reload()
    page.get_by_text("Everyone who wrote to you through this mailbox is a contact").wait_for()
    _shot(page, "04-policy-everyone")
    listed = _contacts(page, site)
    assert all(name in listed for name in ("Ann Writer", "Bob Writer", "Cy Writer"))
    _shot(page, "05-contacts-after-loosening")

    page.goto(f"{site}/connections")
    select = page.get_by_label("Who becomes a contact from Inbox export", exact=True)
    assert select.input_value() == "sent_and_received"
    select.select_option("sent")
    page.get_by_role("button", name="Save who becomes a contact from Inbox export").click()
    page.get_by_text("New contacts now come from the people you write to").wait_for()
    assert _in_thread(_work(settings, apply_contact_policy.QUEUE)) == 1
    page.reload()
    card = page.locator("li.conn", has_text="Inbox export")
    card.get_by_text("See the 2 who wrote").wait_for()
    assert "1 person became a contact; 2 others wrote to you" in card.inner_text()
    _shot(page, "06-connections-tightened")
    listed = _contacts(page, site)
    assert "Cy Writer" in listed  # added by the user: kept
    assert "Ann Writer" not in listed and "Bob Writer" not in listed
    context.close()
