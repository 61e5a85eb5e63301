"""An import's progress while its sync's workflow run goes: read → find people → score."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, JobState, runner
from tests.integration.web.conftest import User, login
from tests.integration.web.connections_support import (
    data_dir,  # noqa: F401  (fixture)
    upload_api,  # noqa: F401  (fixture)
    upload_settings,  # noqa: F401  (fixture)
    write_mbox,
)


@pytest.fixture
def settings(upload_settings: Settings) -> Settings:  # noqa: F811  (the imported fixture)
    return upload_settings


@pytest.fixture
def api(upload_api: httpx.AsyncClient) -> httpx.AsyncClient:  # noqa: F811  (the imported fixture)
    return upload_api


async def test_progress__an_import_shows_its_phase_counts_and_end(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
    jobs: JobQueue,
) -> None:
    mbox = write_mbox(tmp_path / "archive.mbox", range(30)).read_bytes()
    upload = await api.post(
        "/api/connections/upload", headers=alice.auth, files={"file": ("a.mbox", mbox)}
    )
    assert upload.status_code == 201, upload.text
    run_id, connection_id = upload.json()["job_id"], upload.json()["connection"]["id"]
    deps = JobDeps(settings=settings, pool=pool, queue=jobs, log=logging.getLogger("test"))
    registry = build_registry(deps, SystemClock())
    await runner.prepare(jobs, registry)

    await jobs.work(sync_emails.QUEUE, registry[sync_emails.QUEUE].handler)
    progress = await _until(api, alice, connection_id, lambda p: p and p["phase"] == "extracting")
    assert progress["run_id"] == run_id
    assert (progress["batches_done"], progress["batches_total"]) == (0, 1)
    await login(api, alice.account.email)
    page = (await api.get("/connections")).text
    assert "Importing" in page and "Finding people: 0 of 1 batches" in page

    await jobs.work("extract-contacts", registry["extract-contacts"].handler)
    await jobs.work("index-messages", registry["index-messages"].handler)
    await _until(api, alice, connection_id, lambda p: p is None)
    run = await jobs.get_job(run_id)
    assert run is not None and run.state == JobState.COMPLETED
    assert run.output["extracted"] == {"children": 1, "completed": 1}
    listed = (await api.get("/api/connections", headers=alice.auth)).json()
    assert listed[0]["progress"] is None and listed[0]["stored_count"] == 30
    page = (await api.get("/connections")).text
    assert "Finding people" not in page and "Up to date" in page


async def _until(api: httpx.AsyncClient, user: User, connection_id: int, wanted) -> dict | None:
    async with asyncio.timeout(30):
        while True:
            listed = (await api.get("/api/connections", headers=user.auth)).json()
            progress = next(c for c in listed if c["id"] == connection_id)["progress"]
            if wanted(progress):
                return progress
            await asyncio.sleep(0.1)
