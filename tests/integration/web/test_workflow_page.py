"""The jobs dashboard's page of one job: a workflow run's steps, its wait and its progress."""

from __future__ import annotations

import html
from typing import Any

import httpx

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, Workflows
from tests.helpers import wait_for
from tests.integration.test_workflows import finished
from tests.integration.web.conftest import User, failed_job, login

HTML = {"accept": "text/html"}
POLLING = 'hx-trigger="every'


async def waiting_on(wf: Workflows, run_id: int, step: str) -> bool:
    run = await wf.get(run_id)
    return run is not None and any(s.name == step and s.state == "waiting" for s in run.steps)


def _text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


async def test_job_page__a_run_shows_its_steps_its_wait_then_done(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    wf = Workflows(jobs)

    @wf.define("page-child")
    async def child(step: Step, args: Any) -> Any:
        return await step.run("double", lambda: args * 2)

    @wf.define("page-run")
    async def parent(step: Step, args: Any) -> Any:
        pages = await step.run("fetch", lambda: [1, 2, 3])
        doubled = await step.invoke_many("extract", "page-child", pages)
        synced = await step.wait_for_event(
            "synced", event="mail.synced", match={"connection_id": 7}, timeout="1 day"
        )
        return await step.run("finish", lambda: {"sum": sum(doubled), "by": synced["by"]})

    run_id = await wf.start("page-run", {"mailbox": 7})
    assert run_id is not None
    await login(client, "admin@example.com")
    await wf.work("page-child", concurrency=3)
    await wf.work("page-run")
    try:
        await wait_for(lambda: waiting_on(wf, run_id, "synced"))

        page = _text(await client.get(f"/jobs/{run_id}", headers=HTML))
        assert f"Workflow run #{run_id}" in page and "page-run" in page
        for name in ("fetch", "extract", "synced"):
            assert f'<th scope="row" class="mono">{name}</th>' in page, name
        assert "[1, 2, 3]" in page  # the fetch step's output
        assert "[2, 4, 6]" in page  # the fan-out's outputs
        assert '"connection_id": 7' in page  # what the wait matches
        assert "waiting on step" in page and "event mail.synced" in page.replace("<code>", "")
        assert "2 of 3 steps done" in page and "3 of 3 child runs done" in page
        assert 'role="status"' in page and POLLING in page  # live: it refreshes itself
        board = _text(await client.get("/jobs/panel", headers=HTML))
        assert "Workflow runs in progress" in board and f'href="/jobs/{run_id}"' in board
        assert "2 of 3 steps done · 3 of 3 jobs finished · waiting on synced" in board

        assert await wf.send_event("mail.synced", {"connection_id": 7, "by": "imap"}) == 1
        assert (await finished(wf, run_id)).state == "completed"
    finally:
        await jobs.stop(grace=1)

    panel = _text(await client.get(f"/jobs/{run_id}/panel", headers=HTML))
    assert "Done: all 4 steps completed." in panel
    board = _text(await client.get("/jobs/panel", headers=HTML))
    assert "No workflow run is in progress." in board
    assert '"sum": 12' in panel and '"by": "imap"' in panel
    assert "waiting" not in panel and POLLING not in panel  # finished: no more polling


async def test_job_page__a_plain_job_shows_its_attempts(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    job_id = await failed_job(jobs, message="smtp timeout")
    await login(client, "admin@example.com")
    page = _text(await client.get(f"/jobs/{job_id}", headers=HTML))
    assert f"Job #{job_id}" in page and "smtp timeout" in page and "Steps" not in page
    assert POLLING not in page
    board = _text(await client.get("/jobs", headers=HTML))
    assert f'href="/jobs/{job_id}"' in board  # the failed job links to its page

    found = await client.get("/jobs/find", params={"id": job_id})
    assert (found.status_code, found.headers["location"]) == (303, f"/jobs/{job_id}")
    assert (await client.get("/jobs/999999", headers=HTML)).status_code == 404


async def test_job_page__not_for_non_admins(
    client: httpx.AsyncClient, alice: User, jobs: JobQueue
) -> None:
    job_id = await failed_job(jobs)
    await login(client, "alice@example.com")
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/panel"):
        response = await client.get(path, headers=HTML)
        assert response.status_code in (403, 404), path
        assert "smtp" not in response.text and "boom" not in response.text


async def test_job_page__a_failed_run_shows_the_failing_step_and_its_error(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    wf = Workflows(jobs)

    def refuse() -> None:
        raise ConnectionResetError("IMAP server closed the connection")

    @wf.define("page-broken", step_retry_limit=0, retry_limit=0)
    async def broken(step: Step, args: Any) -> Any:
        await step.run("fetch", lambda: "ok")
        await step.run("connect", refuse)

    run_id = await wf.start("page-broken")
    assert run_id is not None
    await wf.work("page-broken")
    try:
        assert (await finished(wf, run_id)).state == "failed"
    finally:
        await jobs.stop(grace=1)
    await login(client, "admin@example.com")
    page = _text(await client.get(f"/jobs/{run_id}", headers=HTML))
    assert '<th scope="row" class="mono">connect</th>' in page
    assert "ConnectionResetError: IMAP server closed the connection" in page
    assert "Failed: " in page and POLLING not in page
