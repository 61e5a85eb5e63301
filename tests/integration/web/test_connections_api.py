"""Connections over the API: the caller's own only (404 for anyone else's), "sync now",
archive uploads imported by the sync job, pause/resume, and deletion by a job."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.files import MailSourceError
from fluffymail.integrations.mail.source import Cursor, SourcePage, TransientSourceError
from fluffymail.jobs import delete_connection, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.queue.outcomes import Snooze
from tests.integration.web.conftest import User
from tests.integration.web.connections_support import (
    UPLOAD_LIMIT,
    data_dir,  # noqa: F401  (fixture)
    ensure_queues,
    maildir_tar,
    maildir_zip,
    run_delete,
    run_sync,
    upload_api,  # noqa: F401  (fixture)
    upload_settings,  # noqa: F401  (fixture)
    write_mbox,
)


async def test_list_and_get__own_connections(
    client: httpx.AsyncClient, alice: User, make_connection
) -> None:
    first = await make_connection(alice, "/mail/a.mbox", "Archive")
    second = await make_connection(alice, "/mail/b.mbox")
    listed = (await client.get("/api/connections", headers=alice.auth)).json()
    assert [c["id"] for c in listed] == [second, first]
    assert listed[1]["display_name"] == "Archive" and listed[1]["status"] == "ok"
    assert "cursor" not in listed[0] and "credentials" not in listed[0]
    detail = (await client.get(f"/api/connections/{first}", headers=alice.auth)).json()
    assert detail["id"] == first and detail["recent_jobs"] == []


async def test_sync__sends_a_job_and_schedules_every_15_minutes(
    client: httpx.AsyncClient, alice: User, make_connection, jobs: JobQueue
) -> None:
    connection_id = await make_connection(alice)
    response = await client.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert response.status_code == 202
    body = response.json()
    assert body["connection_id"] == connection_id and body["schedule"] == "*/15 * * * *"
    job = await jobs.get_job(body["job_id"])
    assert job is not None and job.name == "sync-emails"
    assert job.data == {"connection_id": connection_id, "user_id": alice.account.id, "full": False}
    assert job.singleton_key == f"connection-{connection_id}"
    queue_options = (await jobs.get_queues())["sync-emails"]
    assert queue_options.policy == "stately" and queue_options.retry_limit == 5
    [schedule] = await jobs.get_schedules()
    assert (schedule["name"], schedule["key"], schedule["cron"]) == (
        "sync-emails",
        f"connection-{connection_id}",
        "*/15 * * * *",
    )
    assert schedule["data"] == {"connection_id": connection_id, "user_id": alice.account.id}
    again = await client.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert again.status_code == 202 and again.json()["job_id"] is None  # already queued
    assert len(await jobs.get_schedules()) == 1
    detail = (await client.get(f"/api/connections/{connection_id}", headers=alice.auth)).json()
    assert [j["id"] for j in detail["recent_jobs"]] == [body["job_id"]]


async def test_isolation__another_users_connection_is_404_everywhere(
    client: httpx.AsyncClient, alice: User, bob: User, make_connection, jobs: JobQueue
) -> None:
    alices = await make_connection(alice)
    await client.post(f"/api/connections/{alices}/sync", headers=alice.auth)
    job_id = (await jobs.find_jobs(name="sync-emails"))[0].id
    assert (await client.get("/api/connections", headers=bob.auth)).json() == []
    for method, path in [
        ("GET", f"/api/connections/{alices}"),
        ("POST", f"/api/connections/{alices}/sync"),
        ("GET", "/api/connections/999999"),
    ]:
        response = await client.request(method, path, headers=bob.auth)
        assert response.status_code == 404, path
        assert response.json() == {
            "error": {"code": "not_found", "message": response.json()["error"]["message"]}
        }
    # Bob's probe neither sent a job nor changed a schedule; the job routes are closed to him.
    assert [j.id for j in await jobs.find_jobs(name="sync-emails")] == [job_id]
    assert len(await jobs.get_schedules()) == 1
    for method, path in [
        ("GET", f"/api/jobs/{job_id}"),
        ("POST", f"/api/jobs/{job_id}/cancel"),
        ("GET", "/api/jobs"),
    ]:
        assert (await client.request(method, path, headers=bob.auth)).status_code == 403
    # and Bob's own connection shows none of Alice's jobs
    bobs = await make_connection(bob, "/mail/b.mbox")
    detail = (await client.get(f"/api/connections/{bobs}", headers=bob.auth)).json()
    assert detail["recent_jobs"] == []


async def test_recent_jobs__a_failed_attempt_shows_its_error_in_words_never_the_traceback(
    client: httpx.AsyncClient, alice: User, make_connection, jobs: JobQueue
) -> None:
    """SECURITY.md: an error response never gives a server path or a stack trace; a failed
    sync's job output (what the queue keeps for operators) held both."""
    connection_id = await make_connection(alice)
    await client.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    [job] = await jobs.fetch("sync-emails")
    try:  # as a worker records a failed attempt: the exception with its traceback
        raise TransientSourceError(
            "IMAP connection failed: [Errno 111] Connection refused"
        ) from PermissionError(13, "Permission denied", "/srv/fluffymail/uploads/1/a.mbox")
    except TransientSourceError as exc:
        await jobs.fail(job, exc)
    stored = await jobs.get_job(job.id)
    assert stored is not None and "Traceback" in stored.output["traceback"]  # operators keep it

    response = await client.get(f"/api/connections/{connection_id}", headers=alice.auth)
    [shown] = response.json()["recent_jobs"]
    assert shown["id"] == job.id and shown["state"] == "retry"
    assert shown["output"] == {"error": "the mail server refused the connection"}
    assert shown["worker"] is None
    for secret in ("Traceback", "/srv/fluffymail", __file__, "Errno"):
        assert secret not in response.text


# -- creating by upload, pausing, resuming, deleting (app with a data dir and a small limit) ----


@pytest.fixture
def settings(upload_settings: Settings) -> Settings:  # noqa: F811  (the imported fixture)
    return upload_settings


@pytest.fixture
def api(upload_api: httpx.AsyncClient) -> httpx.AsyncClient:  # noqa: F811  (the imported fixture)
    return upload_api


async def _upload(
    api: httpx.AsyncClient, user: User, name: str, data: bytes, **fields: str
) -> httpx.Response:
    return await api.post(
        "/api/connections/upload", headers=user.auth, files={"file": (name, data)}, data=fields
    )


def _on_disk(path: str) -> bool:
    return Path(path).exists()


async def _stored_path(pool: AsyncConnectionPool, connection_id: int) -> str:
    """Where the upload lies on the server (the API never says)."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT source FROM crm.connections WHERE id = %s", (connection_id,))
        ).fetchone()
    assert row is not None
    return str(row[0])


async def _count(pool: AsyncConnectionPool, query: str, *params: object) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(query, params or None)).fetchone()
    assert row is not None
    return int(row[0])


async def test_upload_mbox__a_job_imports_it(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
    jobs: JobQueue,
) -> None:
    mbox = write_mbox(tmp_path / "archive.mbox", range(12)).read_bytes()
    response = await _upload(api, alice, "2019 archive.mbox", mbox)
    assert response.status_code == 201, response.text
    body = response.json()
    connection = body["connection"]
    assert (
        body["created"]
        and connection["kind"] == "mbox"
        and connection["display_name"] == "2019 archive.mbox"
    )
    # never synced: "waiting", not "ok" (which would claim the mailbox was read)
    assert connection["state"] == "waiting" and connection["last_synced_on"] is None
    assert connection["source"] == f"file:{connection['id']}"  # no server path
    assert str(settings.data_dir) not in response.text
    stored = await _stored_path(pool, connection["id"])
    assert _on_disk(stored)
    assert Path(stored).is_relative_to(settings.data_dir / "uploads" / str(alice.account.id))
    job = await jobs.get_job(body["job_id"])
    assert (
        job is not None
        and job.name == "sync-emails"
        and job.data["connection_id"] == connection["id"]
    )
    assert [s["key"] for s in await jobs.get_schedules()] == [f"connection-{connection['id']}"]
    result = await run_sync(pool, settings, connection["id"])
    assert (result.seen, result.stored) == (12, 12)
    assert (
        await _count(pool, "SELECT count(*) FROM crm.messages WHERE user_id = %s", alice.account.id)
        == 12
    )
    after = (await api.get(f"/api/connections/{connection['id']}", headers=alice.auth)).json()
    assert after["status"] == "ok" and after["stored_count"] == 12 and after["last_synced_on"]


async def test_upload_mbox__the_same_file_again_goes_to_its_connection(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
) -> None:
    exported = write_mbox(tmp_path / "a.mbox", range(6)).read_bytes()
    first = (await _upload(api, alice, "archive.mbox", exported)).json()
    connection_id = first["connection"]["id"]
    await run_sync(pool, settings, connection_id)
    first_copy = await _stored_path(pool, connection_id)
    grown = exported + write_mbox(tmp_path / "b.mbox", range(6, 8)).read_bytes()

    again = await _upload(api, alice, "archive.mbox", grown)  # the same file, two messages on
    body = again.json()

    assert again.status_code == 201, again.text
    assert body["created"] is False and body["connection"]["id"] == connection_id  # was a 2nd
    second_copy = await _stored_path(pool, connection_id)
    assert _on_disk(second_copy) and not _on_disk(first_copy)  # the old copy left the quota
    result = await run_sync(pool, settings, connection_id)
    assert (result.seen, result.stored) == (2, 2)  # only what was missing
    mine = "SELECT count(*) FROM crm.{} WHERE user_id = %s"
    assert await _count(pool, mine.format("connections"), alice.account.id) == 1
    assert await _count(pool, mine.format("messages"), alice.account.id) == 8
    other = write_mbox(tmp_path / "c.mbox", range(20, 22)).read_bytes()  # another mailbox's
    assert (await _upload(api, alice, "archive.mbox", other)).json()["created"] is True


@pytest.mark.parametrize("name", ["a.mbox", "mail.zip"])
async def test_sync_now__an_imported_archive_says_so_and_sends_nothing(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    jobs: JobQueue,
    tmp_path: Path,
    name: str,
) -> None:
    if name.endswith(".zip"):
        data = maildir_zip(range(4))
    else:
        data = write_mbox(tmp_path / name, range(4)).read_bytes()
    upload = await _upload(api, alice, name, data)
    connection_id = upload.json()["connection"]["id"]
    await run_sync(pool, settings, connection_id)
    queued = await jobs.find_jobs(name="sync-emails")
    response = await api.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_imported",
        "message": "This archive is already imported (4 messages)."
        " To add newer mail, upload a newer export.",
    }
    assert await jobs.find_jobs(name="sync-emails") == queued


async def test_sync_now__a_local_mbox_that_grew_syncs_again(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    make_connection,
    tmp_path: Path,
) -> None:
    """Not an upload: `fluffymail import` of a file that may grow. Only when nothing is left
    after its cursor does "Sync now" say it is imported."""
    path = write_mbox(tmp_path / "local.mbox", range(2))
    connection_id = await make_connection(alice, str(path))
    await run_sync(pool, settings, connection_id)
    again = await api.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert again.status_code == 409 and "(2 messages)" in again.json()["error"]["message"]
    write_mbox(path, range(2, 3))  # mailbox.mbox appends
    grown = await api.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert grown.status_code == 202 and grown.json()["job_id"]


@pytest.mark.parametrize(
    ("name", "make"), [("mail.zip", maildir_zip), ("mail.tar.gz", maildir_tar)]
)
async def test_upload_maildir_archive__unpacked_and_imported(
    api: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, settings: Settings, name, make
) -> None:
    response = await _upload(api, alice, name, make(range(5)), display_name="Old laptop")
    assert response.status_code == 201, response.text
    connection = response.json()["connection"]
    assert connection["kind"] == "maildir" and connection["display_name"] == "Old laptop"
    stored = Path(await _stored_path(pool, connection["id"]))
    assert stored.is_dir() and not any(stored.parent.glob(name))  # noqa: ASYNC240  (the archive is gone)
    result = await run_sync(pool, settings, connection["id"])
    assert result.stored == 5


async def test_upload_bad_input__clear_4xx_and_nothing_left_behind(
    api: httpx.AsyncClient, alice: User, settings: Settings, tmp_path: Path
) -> None:
    not_mail = await _upload(api, alice, "notes.txt", b"shopping list\nmilk\n")
    assert not_mail.status_code == 415
    assert not_mail.json()["error"]["code"] == "not_a_mailbox"
    assert "not an mbox file" in not_mail.json()["error"]["message"]
    too_big = await _upload(api, alice, "huge.mbox", b"From x\n" + b"a" * (UPLOAD_LIMIT + 10))
    assert too_big.status_code == 413 and "larger than" in too_big.json()["error"]["message"]
    empty_zip = await _upload(api, alice, "empty.zip", _zip_of_text())
    assert empty_zip.status_code == 415 and "no Maildir" in empty_zip.json()["error"]["message"]
    no_file = await api.post(
        "/api/connections/upload",
        headers=alice.auth,
        data={"display_name": "x"},
        files={"other": ("a.mbox", b"From x\n")},
    )
    assert no_file.status_code == 400
    not_multipart = await api.post(
        "/api/connections/upload", headers=alice.auth, content=b"From x\n"
    )
    assert not_multipart.status_code == 415
    uploads = settings.data_dir / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))
    assert (await api.get("/api/connections", headers=alice.auth)).json() == []


def _zip_of_text() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.bin", b"\x00\x01 not mail")
    return out.getvalue()


async def test_create_imap_bad_input__422_with_reason(api: httpx.AsyncClient, alice: User) -> None:
    wrong_port = await api.post(
        "/api/connections/imap",
        headers=alice.auth,
        json={
            "host": "imap.example.com",
            "port": "nine-nine-three",
            "username": "a",
            "password": "p",
        },
    )
    assert wrong_port.status_code == 422
    assert wrong_port.json()["error"]["message"].startswith("body.port:")
    assert "p" not in str(wrong_port.json()["error"].get("details", [{}])[0].get("input", ""))
    for body in [
        {"host": "imap.example.com", "port": 70000, "username": "a", "password": "p"},
        {"host": "imap.example.com", "username": "a", "password": ""},
        {"host": "bad host/", "username": "a", "password": "p"},
        {"host": "imap.example.com", "username": "a", "password": "p", "security": "tls9"},
    ]:
        response = await api.post("/api/connections/imap", headers=alice.auth, json=body)
        assert response.status_code == 422, body


async def test_pause_resume(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
    jobs: JobQueue,
) -> None:
    created = (
        await _upload(api, alice, "a.mbox", write_mbox(tmp_path / "a.mbox", range(3)).read_bytes())
    ).json()
    connection_id = created["connection"]["id"]
    paused = await api.post(f"/api/connections/{connection_id}/pause", headers=alice.auth)
    assert (
        paused.status_code == 200
        and paused.json()["state"] == "paused"
        and paused.json()["paused_on"]
    )
    assert await jobs.get_schedules() == []
    refused = await api.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "paused"
    skipped = await run_sync(pool, settings, connection_id)  # the sync queued before pausing
    assert skipped.status == "skipped" and skipped.seen == 0
    assert await _count(pool, "SELECT count(*) FROM crm.messages") == 0
    resumed = await api.post(f"/api/connections/{connection_id}/resume", headers=alice.auth)
    assert resumed.status_code == 200 and resumed.json()["connection"]["state"] == "waiting"
    assert [s["key"] for s in await jobs.get_schedules()] == [f"connection-{connection_id}"]
    assert (await run_sync(pool, settings, connection_id)).stored == 3
    synced = await api.get(f"/api/connections/{connection_id}", headers=alice.auth)
    assert synced.json()["state"] == "ok" and synced.json()["last_synced_on"]


class _ActsMidway:
    """A file source that runs `action` (a person clicking Pause or Delete) once it has handed
    over `after` pages, then goes on reading."""

    def __init__(self, source: FileSource, after: int, action: Callable[[], Awaitable[object]]):
        self.source, self.after, self.action, self.pages_read = source, after, action, 0

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        async for page in self.source.pages(cursor):
            yield page
            self.pages_read += 1
            if self.pages_read == self.after:
                await self.action()


@pytest.mark.parametrize("click", ["pause", "delete"])
async def test_pausing_or_deleting_stops_a_running_sync_after_the_batch_it_stores(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
    jobs: JobQueue,
    click: str,
) -> None:
    """A first import reads for hours: it went on to the end while the page said Paused (or
    Deleting, the deletion waiting for it all)."""
    created = await _upload(
        api, alice, "a.mbox", write_mbox(tmp_path / "a.mbox", range(20)).read_bytes()
    )
    connection_id = created.json()["connection"]["id"]
    path = f"/api/connections/{connection_id}" + ("/pause" if click == "pause" else "")

    async def act() -> None:
        response = await api.request(
            "POST" if click == "pause" else "DELETE", path, headers=alice.auth
        )
        assert response.status_code < 300, response.text

    source = _ActsMidway(FileSource(await _stored_path(pool, connection_id), page_size=2), 2, act)
    await ensure_queues(jobs)
    result = await sync_emails.sync_connection(
        pool=pool, queue=jobs, connection_id=connection_id, clock=SystemClock(),
        settings=settings, source=source, batch_size=2,
    )  # fmt: skip

    assert result.status == ("paused" if click == "pause" else "deleting")
    assert source.pages_read <= 4 and 2 <= result.stored <= 6  # not the 10 pages of the file
    assert await _count(pool, "SELECT count(*) FROM crm.messages") == result.stored
    if click == "delete":
        assert (
            await run_delete(pool, settings, connection_id, alice.account.id)
        ).status == "deleted"
        assert await _count(pool, "SELECT count(*) FROM crm.messages") == 0
        return
    view = (await api.get(f"/api/connections/{connection_id}", headers=alice.auth)).json()
    assert (view["state"], view["status"], view["last_error"]) == ("paused", "ok", None)
    assert view["last_synced_on"] is None  # it never read to the end
    await api.post(f"/api/connections/{connection_id}/resume", headers=alice.auth)
    rest = await run_sync(pool, settings, connection_id)  # continues where it stopped
    assert rest.status == "ok" and rest.stored == 20 - result.stored
    assert await _count(pool, "SELECT count(*) FROM crm.messages") == 20


async def test_delete__removes_its_mail_keeps_mail_another_connection_holds(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
    jobs: JobQueue,
) -> None:
    first = (
        await _upload(
            api, alice, "a.mbox", write_mbox(tmp_path / "a.mbox", range(0, 10)).read_bytes()
        )
    ).json()
    second = (
        await _upload(
            api, alice, "b.mbox", write_mbox(tmp_path / "b.mbox", range(6, 15)).read_bytes()
        )
    ).json()
    a, b = first["connection"]["id"], second["connection"]["id"]
    a_path, b_path = await _stored_path(pool, a), await _stored_path(pool, b)
    await run_sync(pool, settings, a)
    await run_sync(pool, settings, b)
    assert await _count(pool, "SELECT count(*) FROM crm.messages") == 15
    threads_before = await _count(pool, "SELECT count(*) FROM crm.threads")

    response = await api.delete(f"/api/connections/{a}", headers=alice.auth)
    assert response.status_code == 202
    job = await jobs.get_job(response.json()["job_id"])
    assert (
        job is not None
        and job.name == "delete-connection"
        and job.data == {"connection_id": a, "user_id": alice.account.id}
    )
    assert [s["key"] for s in await jobs.get_schedules()] == [f"connection-{b}"]
    listed = {
        c["id"]: c["state"] for c in (await api.get("/api/connections", headers=alice.auth)).json()
    }
    assert listed == {a: "deleting", b: "ok"}
    assert (await api.post(f"/api/connections/{a}/sync", headers=alice.auth)).status_code == 409
    assert (await api.post(f"/api/connections/{a}/pause", headers=alice.auth)).status_code == 409

    result = await run_delete(pool, settings, a, alice.account.id)
    assert (result.status, result.locations, result.messages) == ("deleted", 10, 6)
    subjects = {row[0] for row in await _rows(pool, "SELECT subject FROM crm.messages")}
    assert subjects == {f"Quarterly plan, part {n}" for n in range(6, 15)}
    assert (
        await _count(pool, "SELECT count(*) FROM crm.folders f WHERE f.connection_id = %s", a) == 0
    )
    assert await _count(pool, "SELECT count(*) FROM crm.connections WHERE id = %s", a) == 0
    assert await _count(pool, "SELECT count(*) FROM crm.threads WHERE message_count = 0") == 0
    assert await _count(pool, "SELECT count(*) FROM crm.threads") <= threads_before
    assert (
        await _count(
            pool,
            """SELECT count(*) FROM crm.threads t WHERE t.message_count <>
                                 (SELECT count(*) FROM crm.messages m WHERE m.thread_id = t.id)""",
        )
        == 0
    )
    assert not _on_disk(a_path)  # the uploaded file is gone
    assert _on_disk(b_path)
    assert (await api.get(f"/api/connections/{a}", headers=alice.auth)).status_code == 404
    again = await run_delete(pool, settings, a, alice.account.id)
    assert again.status == "gone"


async def _rows(pool: AsyncConnectionPool, query: str) -> list[tuple[object, ...]]:
    async with pool.connection() as conn:
        return await (await conn.execute(query)).fetchall()


async def test_isolation__managing_another_users_connection_is_404(
    api: httpx.AsyncClient, alice: User, bob: User, tmp_path: Path, jobs: JobQueue
) -> None:
    created = (
        await _upload(api, alice, "a.mbox", write_mbox(tmp_path / "a.mbox", range(2)).read_bytes())
    ).json()
    alices = created["connection"]["id"]
    for method, path in [
        ("POST", f"/api/connections/{alices}/pause"),
        ("POST", f"/api/connections/{alices}/resume"),
        ("DELETE", f"/api/connections/{alices}"),
        ("POST", f"/api/connections/{alices}/sync"),
        ("GET", f"/api/connections/{alices}"),
    ]:
        response = await api.request(method, path, headers=bob.auth)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    mine = (await api.get(f"/api/connections/{alices}", headers=alice.auth)).json()
    assert mine["state"] == "waiting" and mine["deleting_on"] is None and mine["paused_on"] is None
    assert [j.name for j in await jobs.find_jobs()] == ["sync-emails"]
    assert (await api.get("/api/connections", headers=bob.auth)).json() == []


async def test_delete_job_waits_for_a_running_sync_and_late_syncs_find_nothing(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
    jobs: JobQueue,
) -> None:
    created = (
        await _upload(api, alice, "a.mbox", write_mbox(tmp_path / "a.mbox", range(4)).read_bytes())
    ).json()
    connection_id = created["connection"]["id"]
    deps = JobDeps(settings=settings, pool=pool, queue=jobs, log=logging.getLogger("test"))
    [running] = await jobs.fetch("sync-emails")  # a worker has started the first sync
    deleting = (await api.delete(f"/api/connections/{connection_id}", headers=alice.auth)).json()
    [delete_job] = await jobs.fetch("delete-connection")
    assert delete_job.id == deleting["job_id"]
    with pytest.raises(Snooze):  # waits for the sync instead of racing it
        await delete_connection.make_handler(deps, SystemClock())(delete_job)
    assert (await sync_emails.make_handler(deps, SystemClock())(running))["status"] == "skipped"
    await jobs.complete(running)
    output = await delete_connection.make_handler(deps, SystemClock())(delete_job)
    assert output["status"] == "deleted"
    args = sync_emails.Args(connection_id=connection_id, user_id=alice.account.id)
    assert await sync_emails.enqueue(jobs, args) is not None  # e.g. a tick sent just before
    [late_job] = await jobs.fetch("sync-emails")
    late = await sync_emails.make_handler(deps, SystemClock())(late_job)
    assert late["status"] == "gone"


async def test_visibility__keeps_bodies_from_the_ai_and_is_validated(
    client: httpx.AsyncClient, alice: User, bob: User, make_connection
) -> None:
    connection_id = await make_connection(alice)
    listed = (await client.get("/api/connections", headers=alice.auth)).json()
    assert listed[0]["visibility"] == "full"
    private = await client.patch(
        f"/api/connections/{connection_id}", json={"visibility": "metadata"}, headers=alice.auth
    )
    assert private.status_code == 200 and private.json()["visibility"] == "metadata"
    got = (await client.get(f"/api/connections/{connection_id}", headers=alice.auth)).json()
    assert got["visibility"] == "metadata"
    bad = await client.patch(
        f"/api/connections/{connection_id}", json={"visibility": "public"}, headers=alice.auth
    )
    assert bad.status_code == 422
    other = await client.patch(
        f"/api/connections/{connection_id}", json={"visibility": "full"}, headers=bob.auth
    )
    assert other.status_code == 404


async def test_a_file_connections_path_is_never_shown(
    api: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Not in the upload's answer, the listing, nor the error of a failed sync."""
    mbox = write_mbox(tmp_path / "a.mbox", range(2)).read_bytes()
    created = await _upload(api, alice, "a.mbox", mbox)
    connection_id = created.json()["connection"]["id"]
    stored = Path(await _stored_path(pool, connection_id))
    stored.unlink()  # noqa: ASYNC240  (gone from the disk: the sync fails)
    with pytest.raises(MailSourceError):
        await run_sync(pool, settings, connection_id)
    shown = [
        created,
        await api.get("/api/connections", headers=alice.auth),
        await api.get(f"/api/connections/{connection_id}", headers=alice.auth),
    ]
    assert shown[2].json()["last_error"] == (
        "the mail files could not be read: they are missing or hold no mail"
    )
    for response in shown:
        assert response.status_code in (200, 201)
        assert str(settings.data_dir) not in response.text
