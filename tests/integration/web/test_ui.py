"""The pages: jobs dashboard (admins), connections, their htmx actions and empty states."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree

import httpx

from fluffymail.queue import JobQueue
from tests.integration.web.conftest import User, failed_job, login, session_csrf

HTML = {"accept": "text/html"}


async def test_jobs_page__shows_failures_and_retries_them(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    job_id = await failed_job(jobs, message="smtp timeout")
    await jobs.create_queue("dead")
    await jobs.schedule("demo", "*/5 * * * *", key="nightly")
    await login(client, "admin@example.com")
    page = await client.get("/jobs", headers=HTML)
    assert page.status_code == 200
    for text in (
        "Throughput",
        "smtp timeout",
        f"#{job_id}",
        "Retry",
        "nightly",
        "No workers running",
    ):
        assert text in page.text, text
    assert "<svg" in page.text
    retried = await client.post(
        f"/jobs/{job_id}/retry",
        headers={"X-CSRF-Token": session_csrf(page.text), "HX-Request": "true"},
    )
    assert retried.status_code == 200
    assert f"Job {job_id} queued for retry." in retried.text
    assert (await jobs.get_job(job_id)).state in ("retry", "created")


async def test_jobs_page__a_schedule_that_never_fired_has_not_run_yet(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    """A new nightly schedule starts from the tick before it existed (22h ago, say): that is
    not a run. Once a tick fires, the page says when."""
    await jobs.create_queue("rescore")
    await jobs.schedule("rescore", "0 3 * * *", key="nightly")
    await login(client, "admin@example.com")

    def last_run(html: str) -> str:
        row = re.search(r'<th scope="row" class="mono">rescore</th>.*?</tr>', html, re.S)
        assert row, "no schedule row"
        return re.findall(r"<td[^>]*>([^<]*)</td>", row[0])[-1]

    assert last_run((await client.get("/jobs/panel")).text) == "not run yet"
    [schedule] = await jobs.get_schedules()
    tick = schedule["created_on"] + timedelta(seconds=1)  # as the scheduler fires it
    assert await jobs.store.fire_schedule("rescore", "nightly", tick, schedule["next_tick"])
    # when it fired, relative to now: how long ago depends on the machine's load, not asserted
    assert re.fullmatch(r"just now|\d+[sm] ago", last_run((await client.get("/jobs/panel")).text))


async def test_jobs_page__retry_without_csrf_is_refused(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    job_id = await failed_job(jobs)
    await login(client, "admin@example.com")
    response = await client.post(f"/jobs/{job_id}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert (await jobs.get_job(job_id)).state == "failed"


async def test_jobs_page__empty_states_say_what_to_do(
    client: httpx.AsyncClient, admin: User
) -> None:
    await login(client, "admin@example.com")
    text = (await client.get("/jobs/panel")).text
    assert "No queues yet." in text and "fluffymail worker" in text and "No failed jobs." in text


async def test_jobs_page__pause_resume_and_redrive(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await jobs.create_queue("dead")
    await jobs.create_queue("work", dead_letter="dead")
    await login(client, "admin@example.com")
    csrf = {"X-CSRF-Token": session_csrf((await client.get("/jobs")).text)}
    assert "Queue work paused." in (await client.post("/queues/work/pause", headers=csrf)).text
    assert "Queue work resumed." in (await client.post("/queues/work/resume", headers=csrf)).text
    assert (
        "0 dead letters sent back" in (await client.post("/queues/dead/redrive", headers=csrf)).text
    )
    await jobs.send("work", {})
    await jobs.pause_queue("work", 600)  # a timed pause, as after the AI's shared 429
    panel = (await client.get("/jobs/panel")).text
    assert "resumes in 10m 0s" in panel or "resumes in 9m" in panel
    assert 'hx-post="/queues/work/resume"' in panel


async def test_jobs_page__not_for_non_admins(client: httpx.AsyncClient, alice: User) -> None:
    await login(client, "alice@example.com")
    response = await client.get("/jobs", headers=HTML)
    assert response.status_code == 403 and "Not for this account" in response.text
    home = await client.get("/")
    assert home.headers["location"] == "/contacts"


async def test_connections_page__lists_and_syncs(
    client: httpx.AsyncClient, alice: User, make_connection, jobs: JobQueue
) -> None:
    await login(client, "alice@example.com")
    empty = await client.get("/connections", headers=HTML)
    assert "No mailboxes connected yet" in empty.text and "fluffymail import" in empty.text
    connection_id = await make_connection(alice, name="Old laptop archive")
    page = await client.get("/connections", headers=HTML)
    assert "Old laptop archive" in page.text and "Not synced yet" in page.text
    response = await client.post(
        f"/connections/{connection_id}/sync", headers={"X-CSRF-Token": session_csrf(page.text)}
    )
    assert "Sync queued" in response.text
    assert len(await jobs.find_jobs(name="sync-emails")) == 1


async def test_connections_page__another_users_connection_is_404(
    client: httpx.AsyncClient, alice: User, bob: User, make_connection
) -> None:
    alices = await make_connection(alice)
    await login(client, "bob@example.com")
    csrf = session_csrf((await client.get("/connections")).text)
    response = await client.post(
        f"/connections/{alices}/sync", headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert response.status_code == 404


async def test_every_page_links_the_favicon(client: httpx.AsyncClient) -> None:
    login_page = await client.get("/login", headers=HTML)
    link = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', login_page.text)
    assert link, "no favicon link in the layout"
    icon = await client.get(link[1])
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert ElementTree.fromstring(icon.content).tag == "{http://www.w3.org/2000/svg}svg"
