"""Upload limits (security issue #15, finding 10): members and unpacked size per archive,
checked before anything is unpacked; uploads in progress per user; storage per user. Each
refusal names the limit and its value, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import io
import tarfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.web.conftest import User
from tests.integration.web.connections_support import (
    connection_settings,
    data_dir,  # noqa: F401  (fixture)
    running_app,
    sample_message,
    write_mbox,
)

MEMBERS = 50
UNPACKED = 64 * 1024


@pytest.fixture
async def api(db_url: str, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    settings = connection_settings(
        db_url, data_dir, upload_max_members=MEMBERS, upload_max_unpacked_bytes=UNPACKED,
        uploads_per_user=2, upload_quota_bytes=12 * 1024,
    )  # fmt: skip
    async for _, http in running_app(settings):
        yield http


async def _upload(api: httpx.AsyncClient, user: User, name: str, data: bytes) -> httpx.Response:
    return await api.post(
        "/api/connections/upload", headers=user.auth, files={"file": (name, data)}
    )


def _nothing_unpacked(data: Path) -> bool:
    uploads = data / "uploads"
    return not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def _zip_of_empty_files(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in range(count):
            zf.writestr(f"Maildir/cur/{n}", b"")
    return out.getvalue()


def _zip_understating_its_count(count: int) -> bytes:
    """A zip whose end record claims one member (zipfile reads them all regardless)."""
    data = bytearray(_zip_of_empty_files(count))
    end = data.rindex(b"PK\x05\x06")
    data[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2
    return bytes(data)


def _tar_of_empty_files(count: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for n in range(count):
            tf.addfile(tarfile.TarInfo(f"Maildir/cur/{n}"), io.BytesIO(b""))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "archive"),
    [
        ("many.zip", _zip_of_empty_files),
        ("lying.zip", _zip_understating_its_count),
        ("many.tar.gz", _tar_of_empty_files),
    ],
)
async def test_an_archive_of_too_many_files_is_refused_before_unpacking(
    api: httpx.AsyncClient,
    alice: User,
    data_dir: Path,  # noqa: F811
    name: str,
    archive,
) -> None:
    response = await _upload(api, alice, name, archive(MEMBERS + 1))
    assert response.status_code == 413, response.text
    assert response.json()["error"] == {
        "code": "too_many_files",
        "message": f"the archive holds more than {MEMBERS} files and folders, "
        "the limit for one archive",
    }
    assert _nothing_unpacked(data_dir)


async def test_an_archive_that_unpacks_too_large_is_refused(
    api: httpx.AsyncClient,
    alice: User,
    data_dir: Path,  # noqa: F811
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Maildir/cur/1", b"From: a@example.org\n\n" + b"z" * UNPACKED)
    response = await _upload(api, alice, "big.zip", out.getvalue())
    assert response.status_code == 413, response.text
    assert response.json()["error"] == {
        "code": "unpacks_too_large",
        "message": "the archive unpacks to more than 64 KB, the limit for one archive",
    }
    assert _nothing_unpacked(data_dir)


async def test_storage_per_user_is_capped(
    api: httpx.AsyncClient, alice: User, bob: User, tmp_path: Path
) -> None:
    mbox = write_mbox(tmp_path / "a.mbox", range(24)).read_bytes()
    assert 6 * 1024 < len(mbox) <= 12 * 1024
    assert (await _upload(api, alice, "a.mbox", mbox)).status_code == 201
    second = await _upload(api, alice, "b.mbox", mbox)
    assert second.status_code == 413
    error = second.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["message"].startswith("this upload does not fit in your storage quota of 12 KB (")
    assert error["message"].endswith(" used); delete an uploaded connection to make room")
    assert (await _upload(api, bob, "b.mbox", mbox)).status_code == 201  # bob's own quota


async def test_a_user_has_two_uploads_in_progress_at_most(
    api: httpx.AsyncClient,
    alice: User,
    bob: User,
    data_dir: Path,  # noqa: F811
) -> None:
    release = asyncio.Event()
    boundary = "fluffy-boundary"

    async def slow_body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="slow.mbox"\r\n\r\n'
        ).encode()
        yield b"From someone@example.org Mon Jan  1 00:00:00 2024\n"
        await release.wait()
        yield sample_message(1) + f"\r\n--{boundary}--\r\n".encode()

    headers = {**alice.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}

    def slow_upload() -> asyncio.Task[httpx.Response]:
        return asyncio.create_task(
            api.post("/api/connections/upload", headers=headers, content=slow_body())
        )

    first, second = slow_upload(), slow_upload()
    receiving = data_dir / "uploads" / str(alice.account.id)
    for _ in range(1200):  # until both have written their first bytes
        if len(list(receiving.glob("*/*"))) == 2 or first.done() or second.done():
            break
        await asyncio.sleep(0.05)
    third = await asyncio.wait_for(_upload(api, alice, "c.mbox", b"From x\n\nhello\n"), 60)
    assert third.status_code == 429, third.text
    assert third.json()["error"] == {
        "code": "too_many_uploads",
        "message": "you already have 2 uploads in progress, the most at once; "
        "wait for one to finish",
    }
    assert (await _upload(api, bob, "b.mbox", b"From x\n\nhello\n")).status_code == 201
    release.set()
    assert [(await task).status_code for task in (first, second)] == [201, 201]
    assert (await _upload(api, alice, "c.mbox", b"From x\n\nhello\n")).status_code == 201


async def test_a_zip_directory_too_long_for_its_claimed_count_is_refused_unread(
    db_url: str,
    alice: User,
    data_dir: Path,  # noqa: F811
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in range(MEMBERS):  # within the count, but names long enough to be suspicious
            zf.writestr(f"Maildir/cur/{n}-{'x' * 1200}", b"")
    data = bytearray(out.getvalue())
    end = data.rindex(b"PK\x05\x06")
    data[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2
    settings = connection_settings(db_url, data_dir, upload_max_members=MEMBERS)  # default quota
    async for _, api in running_app(settings):
        response = await _upload(api, alice, "long.zip", bytes(data))
    assert response.status_code == 413, response.text
    assert response.json()["error"] == {
        "code": "too_many_files",
        "message": f"the archive's list of files is too long for {MEMBERS} files, "
        "the limit for one archive",
    }
    assert _nothing_unpacked(data_dir)
