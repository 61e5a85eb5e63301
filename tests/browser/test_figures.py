"""The demo mailbox through the real pipeline, then a person opens the strongest contact: the
header, the Activity panel, the summary and the timeline show the same figures; after a merge
the page says "updating…" instead of the old numbers. Screenshots: /tmp/trust-numbers-*.png."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.demo import mailbox
from fluffymail.web.services import accounts
from tests.integration.web import figures_check as check

PASSWORD = "correct horse battery"
SHOTS = Path("/tmp")


async def _demo(db_url: str, folder: Path) -> dict[str, int]:
    """The demo mailbox imported, extracted, analysed and summarised; address -> contact id."""
    settings = Settings(database_url=db_url, data_dir=folder, enrich_debounce=1, analyze_debounce=1)
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=6, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, mailbox.OWNER.email, PASSWORD)
        path = folder / "demo.mbox"
        mailbox.write_mbox(path, datetime.now(UTC))
        async with check.worker(settings, pool) as queue:
            await check.import_mailbox(pool, queue, account.id, path)
            await check.settle(queue)
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT primary_address, id FROM crm.contacts WHERE user_id = %s", (account.id,)
            )
            return {a: i for a, i in await cur.fetchall()}


async def _merge(db_url: str, into_id: int, from_id: int) -> None:
    """A merge with no worker running: the analysis that would redo the figures waits."""
    async with (
        AsyncConnectionPool(db_url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool,
        pool.connection() as conn,
        conn.transaction(),
    ):
        merged = await contacts_service.merge_contacts(
            conn, into_id=into_id, from_id=from_id, reason="test", actor="test",
            now=datetime.now(UTC),
        )  # fmt: skip
        assert merged is not None


def _run(coroutine: Any) -> Any:
    """Run `coroutine` on its own loop in a thread (Playwright's sync API holds this one's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _figure(page: Any, name: str) -> str:
    return page.locator(f'#figures [data-figure="{name}"]').inner_text().strip()


def test_contact_page_shows_one_set_of_figures_then_updating_after_a_merge(
    db_url: str, server: str, browser: Any, tmp_path: Path
) -> None:
    ids = _run(_demo(db_url, tmp_path))
    maya = ids["maya.lindqvist@northwindtraders.com"]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(mailbox.OWNER.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/**")

    page.goto(f"{server}/contacts/{maya}")
    page.get_by_role("heading", name="Activity").wait_for()
    sent, received = int(_figure(page, "sent")), int(_figure(page, "received"))
    messages, threads = int(_figure(page, "messages")), int(_figure(page, "threads"))
    assert messages == sent + received
    sentence = page.locator('[data-figure="sentence"]').inner_text()
    assert (
        f"{messages} messages in {threads} threads ({sent} from you, {received} from them)"
        in sentence
    )
    timeline = page.locator('section[aria-labelledby="timeline-title"] .card-head').inner_text()
    assert f"{messages} messages with you" in timeline
    why = page.locator("ul.evidence").inner_text()
    assert f"you sent {sent}, they sent {received}" in why
    page.screenshot(path=str(SHOTS / "trust-numbers-contact.png"), full_page=True)

    page.goto(f"{server}/contacts")
    page.locator("table.contacts").wait_for()
    page.screenshot(path=str(SHOTS / "trust-numbers-list.png"), full_page=True)

    _run(_merge(db_url, ids["sam@brightlane.io"], ids["priya@brightlane.io"]))
    page.goto(f"{server}/contacts/{ids['sam@brightlane.io']}")
    page.get_by_role("heading", name="Activity").wait_for()
    for name in ("messages", "sent", "received", "threads", "two_way_threads"):
        assert _figure(page, name) == "updating…"
    assert page.locator('.contact-head [data-figure="strength"]').inner_text() == "updating…"
    page.screenshot(path=str(SHOTS / "trust-numbers-updating.png"), full_page=True)
    context.close()
