"""Adding an IMAP account over the API against a real Dovecot: a test login before saving,
the password stored encrypted and never echoed, the first sync sent and the mail read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.queue import JobQueue
from tests.integration.imap.conftest import PASSWORD, Dovecot, dovecot, imap_user, seed  # noqa: F401
from tests.integration.web.conftest import User, free_port
from tests.integration.web.connections_support import (
    connection_settings,
    data_dir,  # noqa: F401  (fixture)
    run_sync,
    running_app,
    sample_message,
)


@pytest.fixture
def settings(db_url: str, data_dir: Path, dovecot: Dovecot) -> Settings:  # noqa: F811
    return connection_settings(db_url, data_dir, **dovecot.settings)  # loopback allowed


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for _, http in running_app(settings):
        yield http


def _account(server: Dovecot, user: str, **overrides: object) -> dict[str, object]:
    return {"host": server.host, "port": server.port, "security": "plain", "username": user,
            "password": PASSWORD, "display_name": "Work mail", **overrides}  # fmt: skip


async def test_create__test_login_then_saved_encrypted_and_synced(
    api: httpx.AsyncClient,
    alice: User,
    dovecot: Dovecot,  # noqa: F811  (fixtures imported above)
    imap_user: str,  # noqa: F811
    seed,  # noqa: F811
    pool: AsyncConnectionPool,
    settings: Settings,
    jobs: JobQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed(imap_user, "INBOX", [sample_message(n) for n in range(4)])
    seed(imap_user, "Projects", [sample_message(n) for n in range(10, 13)])
    response = await api.post(
        "/api/connections/imap",
        headers=alice.auth,
        json=_account(dovecot, imap_user, folders=["INBOX"]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    connection = body["connection"]
    assert (connection["kind"], connection["display_name"]) == ("imap", "Work mail")
    assert connection["source"] == f"imap://{imap_user}@{dovecot.host}:{dovecot.port}"
    assert PASSWORD not in response.text
    job = await jobs.get_job(body["job_id"])
    assert job is not None and job.data["connection_id"] == connection["id"]
    assert [s["key"] for s in await jobs.get_schedules()] == [f"connection-{connection['id']}"]
    async with pool.connection() as conn:
        [raw] = await (
            await conn.execute(
                "SELECT credentials FROM crm.connections WHERE id = %s", (connection["id"],)
            )
        ).fetchone()
    assert PASSWORD.encode() not in bytes(raw)
    stored = secrets.SecretBox(secrets.load_key(settings)).decrypt_json(bytes(raw))
    assert stored["password"] == PASSWORD and stored["folders"] == ["INBOX"]
    assert PASSWORD not in caplog.text

    result = await run_sync(pool, settings, connection["id"])
    assert result.stored == 4  # INBOX only, as asked

    # adding the same account again (e.g. after a password change) updates it in place
    again = await api.post(
        "/api/connections/imap", headers=alice.auth, json=_account(dovecot, imap_user)
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["connection"]["id"] == connection["id"]


async def test_create__refused_login_or_unreachable_server_is_a_clear_400(
    api: httpx.AsyncClient,
    alice: User,
    dovecot: Dovecot,  # noqa: F811  (fixtures imported above)
    imap_user: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = await api.post(
        "/api/connections/imap",
        headers=alice.auth,
        json=_account(dovecot, imap_user, password="wrong-password-123"),
    )
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["code"] == "imap_login_failed"
    assert (
        f"IMAP login refused for {imap_user}" in error["message"]
        and "AUTHENTICATIONFAILED" in error["message"]
    )
    assert "wrong-password-123" not in wrong.text and "wrong-password-123" not in caplog.text

    missing = await api.post(
        "/api/connections/imap",
        headers=alice.auth,
        json=_account(dovecot, imap_user, folders=["INBOX", "No Such Folder"]),
    )
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "imap_folder_missing"
    assert "No Such Folder" in missing.json()["error"]["message"]

    other_port = await api.post(
        "/api/connections/imap",
        headers=alice.auth,
        json=_account(dovecot, imap_user, port=free_port()),
    )
    assert other_port.status_code == 400
    assert other_port.json()["error"]["code"] == "imap_address_not_allowed"
    assert "is not allowed" in other_port.json()["error"]["message"]
    assert (await api.get("/api/connections", headers=alice.auth)).json() == []


async def test_mail_deleted_on_the_server__is_gone_from_the_api(
    api: httpx.AsyncClient,
    alice: User,
    dovecot: Dovecot,  # noqa: F811  (fixtures imported above)
    imap_user: str,  # noqa: F811
    seed,  # noqa: F811
    pool: AsyncConnectionPool,
    settings: Settings,
) -> None:
    seed(imap_user, "INBOX", [sample_message(n) for n in range(3)])
    created = await api.post(
        "/api/connections/imap", headers=alice.auth, json=_account(dovecot, imap_user)
    )
    connection_id = created.json()["connection"]["id"]
    await run_sync(pool, settings, connection_id)
    async with pool.connection() as conn:
        [(message_id,)] = await (
            await conn.execute("SELECT id FROM crm.messages WHERE subject LIKE '%%part 1'")
        ).fetchall()
    assert (await api.get(f"/api/messages/{message_id}", headers=alice.auth)).status_code == 200

    with dovecot.client(imap_user) as client:
        client.select_folder("INBOX")
        client.delete_messages(client.search(["HEADER", "Subject", "part 1"]))
        client.expunge()
    result = await run_sync(pool, settings, connection_id)

    assert result.as_output()["deleted"] == 1
    gone = await api.get(f"/api/messages/{message_id}", headers=alice.auth)
    assert gone.status_code == 404
    kept = await api.get(f"/api/messages/{message_id + 1}", headers=alice.auth)
    assert kept.status_code == 200
