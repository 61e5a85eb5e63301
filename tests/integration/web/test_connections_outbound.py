"""IMAP connection tests and syncs reach only what the outbound policy allows (security issue
#15, findings 2 and 6): no probing of loopback or private services, no echo of what a
non-IMAP service says, and one user's hanging tests cannot take the server's threads."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.integrations.mail.source import SourceError
from tests.integration.web.conftest import User
from tests.integration.web.connections_support import (
    connection_settings,
    data_dir,  # noqa: F401  (fixture)
    run_sync,
    running_app,
    write_mbox,
)

BANNER = b"SSH-2.0-OpenSSH_9.6 secret-internal-build\r\n"


class Listener:
    """A TCP service on loopback that counts connections; it greets with `banner`, or
    (silent) holds each connection open without a word until `hang_up`."""

    def __init__(self, banner: bytes | None) -> None:
        self.banner = banner
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)
            if self.banner is not None:
                conn.sendall(self.banner)
                conn.close()

    def hang_up(self) -> None:
        for conn in self.accepted:
            conn.close()

    def close(self) -> None:
        self.hang_up()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        self._thread.join(5)


@pytest.fixture
def banner_service() -> Iterator[Listener]:
    listener = Listener(BANNER)
    yield listener
    listener.close()


@pytest.fixture
def silent_service() -> Iterator[Listener]:
    listener = Listener(None)
    yield listener
    listener.close()


def _account(host: str, port: int) -> dict[str, object]:
    return {"host": host, "port": port, "security": "plain", "username": "sam",
            "password": "pw-123456"}  # fmt: skip


async def _app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for _, http in running_app(settings):
        yield http


@pytest.fixture
async def api(db_url: str, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """The app as shipped: nothing private allowed."""
    async for http in _app(connection_settings(db_url, data_dir)):
        yield http


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0"])
async def test_loopback_is_refused_without_connecting(
    api: httpx.AsyncClient, alice: User, host: str
) -> None:
    response = await api.post("/api/connections/imap", headers=alice.auth, json=_account(host, 993))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "imap_address_not_allowed"
    assert error["message"] == (
        f"{host} is on a private network; an administrator can allow it with "
        "FLUFFYMAIL_OUTBOUND_ALLOW"
    )
    assert (await api.get("/api/connections", headers=alice.auth)).json() == []


async def test_other_ports_are_refused_so_services_cannot_be_probed(
    api: httpx.AsyncClient, alice: User, banner_service: Listener
) -> None:
    for port in (banner_service.port, 22, 6379):
        response = await api.post(
            "/api/connections/imap", headers=alice.auth, json=_account("127.0.0.1", port)
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "imap_address_not_allowed"
        assert f"port {port} is not allowed (use 143 or 993)" in error["message"]
    assert banner_service.accepted == []  # nothing was ever opened


async def test_an_allowed_non_imap_service_is_not_echoed(
    db_url: str,
    data_dir: Path,  # noqa: F811
    alice: User,
    banner_service: Listener,
) -> None:
    settings = connection_settings(
        db_url, data_dir, outbound_allow="127.0.0.1", outbound_ports=str(banner_service.port)
    )
    async for http in _app(settings):
        response = await http.post(
            "/api/connections/imap",
            headers=alice.auth,
            json=_account("127.0.0.1", banner_service.port),
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "imap_unreachable"
    assert error["message"].startswith(
        f"127.0.0.1 on port {banner_service.port} did not answer like an IMAP server"
    )
    assert "SSH" not in response.text and "secret-internal-build" not in response.text
    assert len(banner_service.accepted) == 1


async def test_the_sync_worker_refuses_a_stored_private_address(
    pool: AsyncConnectionPool,
    db_url: str,
    data_dir: Path,  # noqa: F811
    alice: User,
    banner_service: Listener,
) -> None:
    """An IMAP connection stored before the guard (or by other means) is not followed."""
    settings = connection_settings(db_url, data_dir)
    box = secrets.SecretBox(secrets.load_key(settings))
    credentials = {"host": "127.0.0.1", "port": banner_service.port, "ssl": False,
                   "starttls": False, "username": "sam", "password": "pw", "folders": None}  # fmt: skip
    async with pool.connection() as conn:
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=alice.account.id, kind=ConnectionKind.IMAP,
            source=f"imap://sam@127.0.0.1:{banner_service.port}",
            credentials=box.encrypt_json(credentials),
        )  # fmt: skip
    with pytest.raises(SourceError, match="is not allowed"):
        await run_sync(pool, settings, connection.id)
    assert banner_service.accepted == []


async def test_a_users_slow_tests_are_limited_and_run_on_their_own_pool(
    db_url: str,
    data_dir: Path,  # noqa: F811
    alice: User,
    bob: User,
    silent_service: Listener,
    tmp_path: Path,
) -> None:
    closed_port = _closed_port()
    settings = connection_settings(
        db_url, data_dir, outbound_allow="127.0.0.1",
        outbound_ports=f"{silent_service.port},{closed_port}", connection_tests_per_user=2,
    )  # fmt: skip
    hanging = _account("127.0.0.1", silent_service.port)
    refusing = _account("127.0.0.1", closed_port)
    async for http in _app(settings):

        async def test_login(
            user: User, account: dict[str, Any], http: httpx.AsyncClient = http
        ) -> httpx.Response:
            return await http.post("/api/connections/imap", headers=user.auth, json=account)

        first = asyncio.create_task(test_login(alice, hanging))
        second = asyncio.create_task(test_login(alice, hanging))
        await _until(lambda: len(silent_service.accepted) == 2)

        third = await asyncio.wait_for(test_login(alice, hanging), timeout=60)
        assert third.status_code == 429
        assert third.json()["error"] == {
            "code": "too_many_tests",
            "message": "you already have 2 connection tests running, the most at once; "
            "wait for one to finish",
        }
        assert len(silent_service.accepted) == 2  # the refused one opened nothing
        hung = {t.name for t in threading.enumerate()}  # on the tests' own pool
        assert {"fm-connection-test_0", "fm-connection-test_1"} <= hung

        # another user is not held up, and neither are uploads
        bobs = await asyncio.wait_for(test_login(bob, refusing), timeout=60)
        assert bobs.json()["error"] == {
            "code": "imap_unreachable",
            "message": f"could not reach 127.0.0.1 on port {closed_port} (connection refused)",
        }
        mbox = write_mbox(tmp_path / "a.mbox", range(3)).read_bytes()
        upload = await http.post(
            "/api/connections/upload", headers=alice.auth, files={"file": ("a.mbox", mbox)}
        )
        assert upload.status_code == 201, upload.text

        silent_service.hang_up()
        for task in (first, second):
            response = await asyncio.wait_for(task, timeout=60)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "imap_unreachable"
        # the slots are free again
        again = await asyncio.wait_for(test_login(alice, refusing), timeout=60)
        assert again.json()["error"]["code"] == "imap_unreachable"


async def _until(condition: Any, attempts: int = 600) -> None:
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never came true")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
