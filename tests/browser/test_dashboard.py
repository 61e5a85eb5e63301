"""A person logs in, opens the jobs dashboard and retries a failed job by clicking; the
connections page shows live sync status. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.queue import JobQueue
from fluffymail.web.services import accounts

EMAIL, PASSWORD = "ops@example.com", "correct horse battery"


async def _seed(db_url: str) -> int:
    """An admin, some finished work for the chart, a failure, a dead letter, a schedule, a
    worker and two connections. Returns the failed job's id."""
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Ops", is_admin=True)
        queue = JobQueue(pool, listen=False)
        await queue.create_queue("extract-contacts-dead")
        await queue.create_queue(
            "extract-contacts", retry_limit=0, dead_letter="extract-contacts-dead"
        )
        await queue.create_queue("sync-emails", retry_limit=0)
        await queue.insert("extract-contacts", [{"message_id": i} for i in range(120)])
        for _ in range(4):
            await queue.complete(await queue.fetch("extract-contacts", 25))
        async with pool.connection() as conn:  # spread the completions over the last half hour
            await conn.execute(
                "UPDATE queue.job SET completed_on = now() - (id % 30) * interval '1 minute'"
                " WHERE state = 'completed'"
            )
        [dead] = await queue.fetch("extract-contacts")
        await queue.fail(dead, RuntimeError("message 17 vanished"))
        failed_id = await queue.send("sync-emails", {"connection_id": 1, "user_id": account.id})
        assert failed_id is not None
        await queue.fail(
            await queue.fetch("sync-emails"),
            ConnectionResetError("IMAP server closed the connection"),
        )
        await queue.schedule(
            "sync-emails", "*/15 * * * *", {"connection_id": 1}, key="connection-1"
        )
        await queue.store.register_worker(
            "worker-1", "mail-worker-1", 4312, ["sync-emails", "extract-contacts"]
        )
        async with pool.connection() as conn:
            first, _ = await mail_repo.upsert_connection(
                conn,
                user_id=account.id,
                kind=ConnectionKind.MBOX,
                source="/srv/mail/2019-archive.mbox",
                display_name="2019 archive",
            )
            await mail_repo.upsert_connection(
                conn,
                user_id=account.id,
                kind=ConnectionKind.IMAP,
                source="ops@example.com",
                display_name="Work IMAP",
            )
            await conn.execute(
                "UPDATE crm.connections SET status = 'syncing', sync_started_on = now(),"
                " seen_count = 1840, remaining_estimate = 960 WHERE id = %s",
                (first.id,),
            )
        return failed_id


@pytest.fixture
def failed_id(db_url: str) -> int:
    """Seeded before the browser starts (Playwright's sync API owns the thread's event loop)."""
    return asyncio.run(_seed(db_url))


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True, caret="initial")


def test_login_dashboard_retry(failed_id: int, server: str, browser: Any, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    page.goto(f"{server}/jobs")
    assert "/login" in page.url
    _shot(page, artifacts, "01-login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/jobs")
    page.get_by_role("heading", name="Failed jobs").wait_for()
    assert page.get_by_text("IMAP server closed the connection").is_visible()
    _shot(page, artifacts, "02-jobs-dashboard")

    page.get_by_role("button", name=f"Retry job {failed_id}").click()
    page.get_by_text(f"Job {failed_id} queued for retry.").wait_for()
    assert page.get_by_role("button", name=f"Retry job {failed_id}").count() == 0
    _shot(page, artifacts, "03-jobs-after-retry")

    page.get_by_role("link", name="Connections").click()
    page.wait_for_url(f"{server}/connections")
    page.get_by_text("Syncing").wait_for()
    _shot(page, artifacts, "04-connections")
    page.get_by_role("button", name="Sync Work IMAP now").click()
    page.get_by_text("Sync queued").wait_for()

    mobile = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    small = mobile.new_page()
    small.goto(f"{server}/jobs")
    small.get_by_role("heading", name="Failed jobs").wait_for()
    overflow = small.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-wrap, .chart-wrap'))
        .map(e => e.tagName + '.' + e.className)""")
    assert overflow == [], f"wider than a phone screen: {overflow}"
    _shot(small, artifacts, "05-jobs-mobile")
    mobile.close()
    context.close()
