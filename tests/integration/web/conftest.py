"""Web app fixtures: the app on a fresh database (lifespan run), httpx clients, users, tokens,
connections and jobs in known states, and a live uvicorn server for schema fuzzing."""

from __future__ import annotations

import re
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.queue import JobQueue
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from tests import pgbouncer

PASSWORD = "correct horse battery"


def web_settings(db_url: str, data_dir: Path | None = None) -> Settings:
    """Settings for the app under test; uploads and the dev secret key go to `data_dir`."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="fm-web-"))
    return Settings(
        database_url=db_url,
        migrate_on_start=False,
        pool_min_size=1,
        pool_max_size=4,
        log_level="WARNING",
        data_dir=data_dir,
        database_pooler="transaction" if pgbouncer.bounced() else "none",
    )


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    application = create_app(web_settings(db_url, tmp_path))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def make_client(app: FastAPI) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """More independent clients (cookie jars), e.g. a second user's browser."""
    made: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        made.append(http)
        return http

    yield make
    for http in made:
        await http.aclose()


@dataclass(frozen=True, slots=True)
class User:
    account: accounts.Account
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(pool: AsyncConnectionPool) -> Callable[..., Awaitable[User]]:
    async def make(email: str, *, admin: bool = False) -> User:
        account, _ = await accounts.create_user(pool, email, PASSWORD, is_admin=admin)
        return User(account, await accounts.create_api_token(pool, account.id, "tests"))

    return make


@pytest.fixture
async def admin(make_user: Callable[..., Awaitable[User]]) -> User:
    return await make_user("admin@example.com", admin=True)


@pytest.fixture
async def alice(make_user: Callable[..., Awaitable[User]]) -> User:
    return await make_user("alice@example.com")


@pytest.fixture
async def bob(make_user: Callable[..., Awaitable[User]]) -> User:
    return await make_user("bob@example.com")


@pytest.fixture
def make_connection(pool: AsyncConnectionPool) -> Callable[..., Awaitable[int]]:
    async def make(user: User, source: str = "/mail/archive.mbox", name: str = "") -> int:
        async with pool.connection() as conn:
            connection, _ = await mail_repo.upsert_connection(
                conn,
                user_id=user.account.id,
                kind=ConnectionKind.MBOX,
                source=source,
                display_name=name,
            )
        return connection.id

    return make


@pytest.fixture
def jobs(pool: AsyncConnectionPool) -> JobQueue:
    return JobQueue(pool, listen=False)


async def failed_job(
    queue: JobQueue,
    name: str = "demo",
    data: Any = None,
    message: str = "boom: the mail server hung up",
) -> int:
    """A job that failed for good (no retries left), with one recorded attempt."""
    await queue.create_queue(name, retry_limit=0)
    job_id = await queue.send(name, data or {"n": 1})
    assert job_id is not None
    [job] = await queue.fetch(name)
    await queue.fail(job, RuntimeError(message))
    return job_id


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form like a browser (the page's CSRF token, then the POST)."""
    page = await http.get("/login")
    token = csrf_from(page.text)
    return await http.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field in the page"
    return match[1]


def session_csrf(html: str) -> str:
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert match, "no X-CSRF-Token in the page"
    return match[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(web_settings(db_url, tmp_path)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        thread.join(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
