"""The connections page's forms and buttons (htmx, cookie session + CSRF): upload, the IMAP
form's inline errors, pause/resume/delete, the Gmail button, and other users' ids -> 404."""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.queue import JobQueue
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.connections_support import (
    connection_settings,
    data_dir,  # noqa: F401  (fixture)
    run_sync,
    running_app,
    write_mbox,
)

HTML = {"accept": "text/html"}
Browser = Callable[[str], AbstractAsyncContextManager[tuple[httpx.AsyncClient, dict[str, str]]]]


@pytest.fixture
def settings(db_url: str, data_dir: Path) -> Settings:  # noqa: F811  (the imported fixture)
    return connection_settings(db_url, data_dir)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for served, _ in running_app(settings):
        yield served


@pytest.fixture
def browser(app: FastAPI) -> Browser:
    """`async with browser(email) as (http, htmx_headers)`: a logged-in browser session."""

    @asynccontextmanager
    async def open_session(email: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await login(http, email)
            csrf = session_csrf((await http.get("/connections", headers=HTML)).text)
            yield http, {"X-CSRF-Token": csrf, "HX-Request": "true"}

    return open_session


async def test_upload_form__imports_and_refreshes_the_list(
    browser: Browser, alice: User, tmp_path: Path, jobs: JobQueue
) -> None:
    mbox = write_mbox(tmp_path / "a.mbox", range(3)).read_bytes()
    async with browser("alice@example.com") as (http, htmx):
        response = await http.post(
            "/connections/upload",
            headers=htmx,
            files={"file": ("a.mbox", mbox)},
            data={"display_name": "Laptop export"},
        )
        assert response.status_code == 200
        assert "Laptop export uploaded; importing it now." in response.text
        assert response.headers["hx-trigger"] == "connections-changed"
        bad = await http.post(
            "/connections/upload", headers=htmx, files={"file": ("x.txt", b"hello")}
        )
        assert 'role="alert"' in bad.text and "is not an mbox file" in bad.text
        listing = await http.get("/connections/list", headers=htmx)
        assert "Laptop export" in listing.text and "Not synced yet" in listing.text
    assert [j.name for j in await jobs.find_jobs()] == ["sync-emails"]


async def test_imap_form__inline_errors_and_no_password_echo(browser: Browser, alice: User) -> None:
    async with browser("alice@example.com") as (http, htmx):
        response = await http.post(
            "/connections/imap",
            headers=htmx,
            data={
                "host": "imap.example.com",
                "port": "99999",
                "security": "ssl",
                "username": "",
                "password": "hunter2-secret",
                "folders": "",
                "display_name": "",
            },
        )
        assert response.status_code == 200
        assert "Use a port from 1 to 65535." in response.text
        assert "Enter the account&#39;s user name" in response.text
        assert (
            'aria-invalid="true"' in response.text and 'value="imap.example.com"' in response.text
        )
        assert "hunter2-secret" not in response.text
        unreachable = await http.post(
            "/connections/imap",
            headers=htmx,
            data={
                "host": "127.0.0.1",
                "port": "1",
                "security": "plain",
                "username": "sam",
                "password": "pw",
                "folders": "",
                "display_name": "",
            },
        )
        assert "port 1 is not allowed (use 143 or 993)" in unreachable.text


async def test_upload_form__the_same_file_again_says_it_was_imported_before(
    browser: Browser, alice: User, tmp_path: Path, pool: AsyncConnectionPool, settings: Settings
) -> None:
    mbox = write_mbox(tmp_path / "a.mbox", range(3)).read_bytes()
    async with browser("alice@example.com") as (http, htmx):
        upload = {"files": {"file": ("a.mbox", mbox)}, "data": {"display_name": "Laptop export"}}
        await http.post("/connections/upload", headers=htmx, **upload)
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT id FROM crm.connections")).fetchone()
        assert row is not None
        await run_sync(pool, settings, row[0])
        again = await http.post("/connections/upload", headers=htmx, **upload)

    said = "Laptop export was imported before; adding only what is new in this copy now."
    assert said in again.text  # was a second connection: "Laptop export uploaded; …"


async def test_pause_resume_delete_buttons(browser: Browser, alice: User, make_upload) -> None:
    connection_id = await make_upload(alice)
    async with browser("alice@example.com") as (http, htmx):
        refused = await http.post(
            f"/connections/{connection_id}/pause", headers={"HX-Request": "true"}
        )
        assert refused.status_code == 403  # no CSRF token
        paused = await http.post(f"/connections/{connection_id}/pause", headers=htmx)
        assert (
            "Paused a.mbox" in paused.text
            and f'hx-post="/connections/{connection_id}/resume"' in paused.text
        )
        blocked = await http.post(f"/connections/{connection_id}/sync", headers=htmx)
        assert "this connection is paused; resume it to sync" in blocked.text
        resumed = await http.post(f"/connections/{connection_id}/resume", headers=htmx)
        assert "Resumed a.mbox" in resumed.text
        deleting = await http.post(f"/connections/{connection_id}/delete", headers=htmx)
        assert "Deleting a.mbox" in deleting.text and ">Deleting</span>" in deleting.text
        assert f'hx-post="/connections/{connection_id}/sync"' not in deleting.text


async def test_sync_now_on_an_imported_archive__says_so_and_offers_an_upload(
    browser: Browser,
    alice: User,
    make_upload,
    pool: AsyncConnectionPool,
    settings: Settings,
) -> None:
    connection_id = await make_upload(alice)
    await run_sync(pool, settings, connection_id)
    async with browser("alice@example.com") as (http, htmx):
        first = await http.get("/connections/list", headers=htmx)
        assert "2 new of 2 read" in first.text
        again = await http.post(f"/connections/{connection_id}/sync", headers=htmx)
        assert again.status_code == 200
        assert (
            "This archive is already imported (2 messages)."
            " To add newer mail, upload a newer export."
        ) in again.text
        assert '<a href="#upload-form">Upload a newer export</a>' in again.text
        await run_sync(pool, settings, connection_id)  # the 15-minute sync reads nothing
        later = await http.get("/connections/list", headers=htmx)
        assert "everything in this archive is imported" in later.text
        assert "0 new of 0 read" not in later.text


async def test_keep_private_from_the_ai_button(browser: Browser, alice: User, make_upload) -> None:
    connection_id = await make_upload(alice)
    async with browser("alice@example.com") as (http, htmx):
        private = await http.post(
            f"/connections/{connection_id}/visibility",
            headers=htmx,
            data={"visibility": "metadata"},
        )
        assert "message bodies stay in FluffyMail" in private.text
        assert (
            "Private: bodies never go to an AI model" in private.text and "Allow AI" in private.text
        )
        bad = await http.post(
            f"/connections/{connection_id}/visibility", headers=htmx, data={"visibility": "public"}
        )
        assert "unknown visibility" in bad.text
        allowed = await http.post(
            f"/connections/{connection_id}/visibility", headers=htmx, data={"visibility": "full"}
        )
        assert "Keep private" in allowed.text


async def test_other_users_connection_ids_are_404_on_the_page_routes(
    browser: Browser, alice: User, bob: User, make_upload, jobs: JobQueue
) -> None:
    alices = await make_upload(alice)
    async with browser("bob@example.com") as (http, htmx):
        for action in ("pause", "resume", "delete", "sync", "visibility"):
            response = await http.post(
                f"/connections/{alices}/{action}", headers=htmx, data={"visibility": "metadata"}
            )
            assert response.status_code == 404, action
    assert [j.name for j in await jobs.find_jobs()] == ["sync-emails"]  # only Alice's upload's


async def test_gmail_button__explains_when_not_set_up(browser: Browser, alice: User) -> None:
    async with browser("alice@example.com") as (http, _):
        page = await http.get("/connections", headers=HTML)
        assert "Connect Gmail" in page.text and "FLUFFYMAIL_GMAIL_CLIENT_ID" in page.text
        response = await http.get("/connections/gmail/connect", headers=HTML)
        assert response.status_code == 303
        assert response.headers["location"] == "/connections?gmail=gmail_not_configured"
        notice = await http.get(response.headers["location"], headers=HTML)
        assert "Gmail is not set up on this server yet" in notice.text
        connected = await http.get("/connections?gmail=connected", headers=HTML)
        assert "Gmail connected." in connected.text


@pytest.fixture
def make_upload(app: FastAPI, tmp_path: Path) -> Callable[[User], object]:
    async def make(user: User) -> int:
        mbox = write_mbox(tmp_path / f"{user.account.id}.mbox", range(2)).read_bytes()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            response = await http.post(
                "/api/connections/upload", headers=user.auth, files={"file": ("a.mbox", mbox)}
            )
        assert response.status_code == 201, response.text
        return response.json()["connection"]["id"]

    return make


async def test_sync_status__stalled_and_failed_read_plainly(
    browser: Browser, alice: User, make_upload, pool: AsyncConnectionPool
) -> None:
    """A sync whose server went silent reads "stalled" with how long; a failed one says in
    words what went wrong and when it is tried again, from its job's retry state (on the
    page and in the API)."""
    stalled, failed = await make_upload(alice), await make_upload(alice)
    started = time.monotonic()  # the figures below age while the page is fetched
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.connections SET status = 'syncing', sync_started_on = now(),"
            " seen_count = 120, progress_folder = 'INBOX',"
            " last_progress_on = now() - interval '12.4 seconds' WHERE id = %s",
            (stalled,),
        )
        await conn.execute(
            "UPDATE crm.connections SET status = 'failed', last_error_on = now(),"
            " last_error = 'the mail server refused the connection' WHERE id = %s",
            (failed,),
        )
        await conn.execute(
            "UPDATE queue.job SET state = 'retry', retry_count = 4, retry_limit = 5,"
            " start_after = now() + interval '40.5 seconds'"
            " WHERE name = 'sync-emails' AND (data ->> 'connection_id')::bigint = %s",
            (failed,),
        )
    async with browser("alice@example.com") as (http, htmx):
        listing = (await http.get("/connections/list", headers=htmx)).text
        api = await http.get(f"/api/connections/{stalled}", headers=alice.auth)
        failed_api = (await http.get(f"/api/connections/{failed}", headers=alice.auth)).json()
        listed = (await http.get("/api/connections", headers=alice.auth)).json()
    aged = math.ceil(time.monotonic() - started)  # seconds the figures can have moved
    silent = re.search(
        r"stalled — no answer from the server for (\d+) s \(reading INBOX\)", listing
    )
    assert silent and 12 <= int(silent[1]) <= 12 + aged, listing
    assert "the mail server refused the connection" in listing
    next_try = re.search(r"; next try in (\d+) s, 2 tries left</span>", listing)
    assert next_try and 40 - aged <= int(next_try[1]) <= 41, listing
    assert "it will be retried" not in listing
    body = api.json()
    assert (body["state"], body["progress_folder"]) == ("stalled", "INBOX")
    # the API says when a failed sync is tried again, as the page does
    [listed_failed] = [c for c in listed if c["id"] == failed]
    for shown in (failed_api, listed_failed):
        note = re.fullmatch(r"next try in (\d+) s, 2 tries left", shown["retry_note"] or "")
        assert shown["state"] == "failed" and note and 40 - aged <= int(note[1]) <= 41, shown
    assert body["retry_note"] is None
    assert 12 <= body["stalled_seconds"] <= 12 + aged
