"""During a first import the contacts page says its ranking is partial, and says no more once
the import ends (issue 19). Screenshots go to the test's tmp dir."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts
from tests.integration.web.contact_seed import Seeded, seed_crm

EMAIL, PASSWORD = "importing@example.com", "correct horse battery"
LABEL = "import still running"


async def _seed(db_url: str) -> Seeded:
    async with AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD, name="Importer")
        seeded = await seed_crm(pool, account.id)
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO crm.connections (user_id, kind, source, status, remaining_estimate)"
                " VALUES (%s, 'mbox', '/big.mbox', 'syncing', 311000)",
                (account.id,),
            )
        return seeded


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return asyncio.run(_seed(db_url))


def test_the_ranking_is_labelled_partial_while_the_import_runs(
    seeded: Seeded, db_url: str, server: str, browser: Any, tmp_path: Path
) -> None:
    del seeded
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server}/contacts")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/contacts")

    note = page.locator("[data-partial-ranking]")
    assert note.is_visible()
    assert "messages so far; import still running." in note.inner_text()
    assert note.inner_text().startswith("Ranking from ")
    assert page.locator("table.contacts tbody tr").count() == 4  # the ranking itself shows
    page.screenshot(path=str(tmp_path / "01-partial.png"), full_page=True)

    with psycopg.connect(db_url, autocommit=True) as conn:  # the import ends
        conn.execute("UPDATE crm.connections SET status = 'ok', last_synced_on = now()")
    page.reload()
    assert page.locator("table.contacts tbody tr").count() == 4
    assert LABEL not in page.content()
