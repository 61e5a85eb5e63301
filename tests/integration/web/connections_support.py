"""Shared by the connection tests: the app with a data directory, a credentials key, a small
upload limit and Gmail pointed at the emulator; sample mail; running jobs inline."""

from __future__ import annotations

import io
import mailbox
import tarfile
import zipfile
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import delete_connection, sync_emails
from fluffymail.queue import JobQueue
from fluffymail.web.app import create_app

KEY = Fernet.generate_key().decode()
UPLOAD_LIMIT = 256 * 1024


def connection_settings(db_url: str, data_dir: Path, **overrides: Any) -> Settings:
    options: dict[str, Any] = {
        "database_url": db_url, "migrate_on_start": False, "pool_min_size": 1,
        "pool_max_size": 4, "log_level": "WARNING", "data_dir": data_dir, "secret_key": KEY,
        "upload_max_bytes": UPLOAD_LIMIT, **overrides,
    }  # fmt: skip
    return Settings(**options)


async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield app, http


def sample_message(n: int, *, sender: str = "Ann Example <ann@example.org>",
                   to: str = "owner@example.com") -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Quarterly plan, part {n}"
    message["Date"] = f"Mon, {n % 28 + 1:02d} Jan 2024 10:{n % 60:02d}:00 +0000"
    message["Message-ID"] = f"<plan-{n}@example.org>"
    message.set_content(f"Hello,\n\nHere is part {n} of the plan.\n\nAnn\n")
    return bytes(message)


def write_mbox(path: Path, numbers: range) -> Path:
    box = mailbox.mbox(path)
    for n in numbers:
        box.add(sample_message(n))
    box.flush()
    box.close()
    return path


def maildir_zip(numbers: range) -> bytes:
    """A zip of a Maildir (cur/new/tmp) holding these sample messages."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("Maildir/tmp/", "")
        zf.writestr("Maildir/new/", "")
        for n in numbers:
            zf.writestr(f"Maildir/cur/{1700000000 + n}.M{n}P1.host:2,S", sample_message(n))
    return out.getvalue()


def maildir_tar(numbers: range) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for n in numbers:
            data = sample_message(n)
            info = tarfile.TarInfo(f"export/cur/{1700000000 + n}.M{n}P1.host:2,S")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("export/new")
        info.type = tarfile.DIRTYPE
        tf.addfile(info)
    return out.getvalue()


async def run_sync(pool: AsyncConnectionPool, settings: Settings, connection_id: int) -> Any:
    """What the worker does for one sync-emails job, inline."""
    queue = JobQueue(pool, listen=False)
    await ensure_queues(queue)
    return await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection_id, clock=SystemClock(), settings=settings
    )


async def run_delete(pool: AsyncConnectionPool, settings: Settings, connection_id: int,
                     user_id: int) -> delete_connection.DeleteResult:  # fmt: skip
    queue = JobQueue(pool, listen=False)
    await ensure_queues(queue)
    args = delete_connection.Args(connection_id=connection_id, user_id=user_id)
    return await delete_connection.delete_connection(
        pool=pool, queue=queue, args=args, clock=SystemClock(), data_dir=settings.data_dir
    )


async def ensure_queues(queue: JobQueue) -> None:
    existing = await queue.get_queues()
    for name in ("sync-emails", "extract-contacts", "analyze-relationships", "delete-connection"):
        if name not in existing:
            await queue.create_queue(name)


@pytest.fixture
def upload_settings(db_url: str, data_dir: Path) -> Settings:
    """The app's settings with a data dir for uploads and a small upload limit."""
    return connection_settings(db_url, data_dir)


@pytest.fixture
async def upload_api(upload_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app running with `upload_settings` (its lifespan included)."""
    async for _, http in running_app(upload_settings):
        yield http


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
