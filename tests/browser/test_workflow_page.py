"""An admin opens a workflow run from the jobs dashboard: its steps, the event it waits for and
its progress; the page updates itself when the event arrives and the run finishes. Screenshots
go to test-artifacts/ (not committed)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, Workflows
from fluffymail.web.services import accounts
from tests.helpers import wait_for

EMAIL, PASSWORD = "ops@example.com", "correct horse battery"


def _workflows(queue: JobQueue) -> Workflows:
    wf = Workflows(queue)

    @wf.define("shot-extract")
    async def extract(step: Step, page: Any) -> Any:
        return await step.run("read", lambda: {"page": page, "contacts": page * 3})

    @wf.define("shot-import")
    async def import_mailbox(step: Step, args: Any) -> Any:
        pages = await step.run("list-pages", lambda: list(range(1, 6)))
        found = await step.invoke_many("extract", "shot-extract", pages)
        synced = await step.wait_for_event(
            "synced", event="mail.synced", match={"connection_id": args["connection"]}
        )
        return await step.run(
            "summarize", lambda: {"contacts": sum(f["contacts"] for f in found), **synced}
        )

    return wf


async def _run(db_url: str, until: str, run_id: int | None = None) -> int:
    """Start a run (or send the event it waits for) and work it until its `until` state."""
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=4, kwargs={"autocommit": True}
    ) as pool:
        queue = JobQueue(pool, listen=False)
        wf = _workflows(queue)
        if run_id is None:
            await accounts.create_user(pool, EMAIL, PASSWORD, name="Ops", is_admin=True)
            run_id = await wf.start("shot-import", {"connection": 7})
        else:
            await wf.send_event("mail.synced", {"connection_id": 7, "messages": 1840})
        assert run_id is not None
        await wf.work("shot-extract", concurrency=2)
        await wf.work("shot-import")

        async def reached() -> bool:
            run = await wf.get(run_id)
            return run is not None and run.state == until and run.steps[-1].name != "extract"

        try:
            await wait_for(reached, 20)
        finally:
            await queue.stop(grace=1)
        return run_id


@pytest.fixture
def run_id(db_url: str) -> int:
    """Seeded before the browser starts (Playwright's sync API owns the thread's event loop)."""
    return asyncio.run(_run(db_url, "waiting"))


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True, caret="initial")


def test_workflow_run_page(
    run_id: int, db_url: str, server: str, browser: Any, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{server}/jobs")
    page.get_by_label("Job number").fill(str(run_id))
    page.get_by_role("button", name="Open").click()
    page.wait_for_url(f"{server}/jobs/{run_id}")

    page.get_by_role("heading", name=f"Workflow run #{run_id}").wait_for()
    steps = page.get_by_role("table").first
    for name in ("list-pages", "extract", "synced"):
        assert steps.get_by_role("rowheader", name=name).is_visible(), name
    status = page.get_by_role("status").filter(has_text="steps done")
    assert "waiting on step synced for event mail.synced" in status.inner_text()
    assert "5 of 5 child runs done" in status.inner_text()
    _shot(page, artifacts, "wf-01-run-waiting")

    with ThreadPoolExecutor(1) as pool:  # the event, and a worker to finish the run
        pool.submit(asyncio.run, _run(db_url, "completed", run_id)).result()
    page.get_by_text("Done: all 4 steps completed.").wait_for()  # htmx polling
    assert steps.get_by_role("rowheader", name="summarize").is_visible()
    _shot(page, artifacts, "wf-02-run-done")

    mobile = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    small = mobile.new_page()
    small.goto(f"{server}/jobs/{run_id}")
    small.get_by_role("heading", name="Steps").wait_for()
    overflow = small.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-wrap'))
        .map(e => e.tagName + '.' + e.className)""")
    assert overflow == [], f"wider than a phone screen: {overflow}"
    _shot(small, artifacts, "wf-03-run-mobile")
    mobile.close()
    context.close()
