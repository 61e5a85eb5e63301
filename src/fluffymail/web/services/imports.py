"""CSV and vCard imports as the web app runs them: an upload is streamed in under a size limit,
read and checked, and kept as a previewed import run (its good rows staged, its bad rows
listed with their reasons); confirming it queues the `import-records` job, which applies it
in one transaction. Each run's report says what became of every row.

Another user's run looks exactly like a missing one.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm.imports import reading, records
from fluffymail.crm.imports import repo as imports_repo
from fluffymail.crm.imports.columns import Kind
from fluffymail.jobs import import_records
from fluffymail.queue import JobQueue
from fluffymail.web.services import activity, limits, uploads
from fluffymail.web.services.connections import ConnectionProblem
from fluffymail.web.services.contacts import db_now
from fluffymail.web.services.problems import ServiceProblem

MAX_BYTES = 50 * 1024**2
MAX_ROWS = 200_000
SAMPLE_ROWS = 10
Format = Literal["csv", "vcf"]


class ImportProblem(ServiceProblem):
    """An import that cannot be done as asked; `reason` says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    """A run as previewed: the run, its first staged rows, and how many match what you have."""

    run: dict[str, Any]
    sample: list[dict[str, Any]]
    existing: int
    new: int


def not_found(run_id: int) -> ImportProblem:
    return ImportProblem(404, "not_found", f"no import {run_id}")


def check_region(region: str | None) -> str | None:
    if region is None or not region.strip():
        return None
    region = region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportProblem(400, "bad_region", f"“{region}” is not a country code (as in GB, US)")
    return region


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """A file as received: its bytes, its name and the small form fields sent with it."""

    data: bytes
    filename: str
    fields: dict[str, str]


async def receive(
    chunks: AsyncIterator[bytes],
    headers: Mapping[str, str],
    *,
    settings: Settings,
    user_id: int,
    in_flight: limits.UserSlots,
) -> Upload:
    """Stream a multipart upload (its `file` field) in, within `MAX_BYTES`.

    Raises:
        ImportProblem: 413 too large, 415 not multipart, 400 no file or an empty one, 429 too
            many uploads at once.
    """

    def busy() -> ImportProblem:
        return ImportProblem(429, "too_many_uploads", "you have too many uploads in progress")

    bounds = uploads.UploadLimits(
        file_bytes=MAX_BYTES, unpacked_bytes=MAX_BYTES, members=1, quota=MAX_BYTES
    )
    with in_flight.hold(user_id, busy):
        target = uploads.upload_dir(Path(settings.data_dir) / "imports", user_id)
        try:
            length = headers.get("content-length", "")
            if length.isdigit():
                bounds.check_file(max(int(length) - uploads.OVERHEAD, 0))
            received = await uploads.receive_upload(
                chunks, headers.get("content-type", ""), target, bounds
            )
            assert received.path is not None
            data = await asyncio.to_thread(received.path.read_bytes)
        except ConnectionProblem as exc:
            reason = exc.reason.replace("archive", "file").replace("storage quota", "limit")
            raise ImportProblem(exc.status, exc.code, reason) from exc
        finally:
            shutil.rmtree(target, ignore_errors=True)
    return Upload(data=data, filename=received.filename[:200], fields=received.fields)


async def stage(
    pool: AsyncConnectionPool,
    user_id: int,
    upload: Upload,
    *,
    kind: Kind,
    encoding: str | None = None,
    region: str | None = None,
) -> Preview:
    """Read and check a received file and keep it as a previewed run; answers the preview.

    Raises:
        ImportProblem: 415 not text (or vCards as companies), 400 a file that cannot be read
            (wrong encoding, no header, no email column, unknown country), 413 too many rows.
    """
    region = check_region(region)
    if encoding is not None and encoding not in reading.ENCODINGS:
        raise ImportProblem(400, "bad_encoding", f"the encoding must be one of {reading.ENCODINGS}")
    found = await asyncio.to_thread(_read, upload.data, upload.filename, kind, encoding, region)
    checked, read, fmt = found
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        await imports_repo.prune(conn, user_id, now)
        new_run = imports_repo.NewRun(
            user_id=user_id, workspace_id=await activity.workspace_of(conn, user_id),
            kind=kind, format=fmt, filename=upload.filename, columns=read.columns,
            total_rows=checked.total, problems=checked.problems, warnings=checked.warnings,
        )  # fmt: skip
        run_id = await imports_repo.create_run(conn, new_run, checked.rows, now)
    async with pool.connection() as conn:
        await imports_repo.analyze_rows(conn)  # the import job joins them to your contacts
    return await preview(pool, user_id, run_id)


def _read(
    data: bytes, filename: str, kind: Kind, encoding: str | None, region: str | None
) -> tuple[records.Checked, reading.Read, Format]:
    """Read and check the file (blocking: run it in a thread)."""
    try:
        text = reading.decode(data, encoding)
        if reading.is_vcard(text) or filename.lower().endswith((".vcf", ".vcard")):
            if kind == "companies":
                raise ImportProblem(
                    415, "not_csv", "companies are imported from CSV; this file holds vCards"
                )
            read, fmt = reading.read_vcards(text, MAX_ROWS), "vcf"
        else:
            read, fmt = reading.read_csv(text, kind, MAX_ROWS), "csv"
    except reading.Unreadable as exc:
        raise ImportProblem(exc.status, exc.code, exc.reason) from exc
    return records.check_all(read.records, kind, region), read, fmt  # type: ignore[return-value]


async def preview(pool: AsyncConnectionPool, user_id: int, run_id: int) -> Preview:
    """The run with its first rows and how many of them match what the user has."""
    async with pool.connection() as conn:
        run = await imports_repo.get_run(conn, user_id, run_id)
        if run is None:
            raise not_found(run_id)
        sample = await imports_repo.run_rows(conn, run_id, limit=SAMPLE_ROWS, offset=0)
        existing, total = (0, 0)
        if run["state"] == "previewed":
            existing, total = await imports_repo.matches(conn, user_id, run_id, run["kind"])
    return Preview(run=run, sample=sample, existing=existing, new=total - existing)


async def confirm(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, run_id: int
) -> dict[str, Any]:
    """Queue a previewed run's import, or a failed one's again (the job applies it); 409 when
    it is queued or done."""
    await import_records.ensure_queue(queue)
    async with pool.connection() as conn, conn.transaction():
        run = await imports_repo.lock_run(conn, user_id, run_id)
        if run is None:
            raise not_found(run_id)
        if run.state not in ("previewed", "failed"):
            raise ImportProblem(409, "conflict", f"import {run_id} is already {run.state}")
        args = import_records.Args(run_id=run_id, user_id=user_id)
        job_id = await import_records.enqueue(queue, args, conn=conn)
        await imports_repo.queue_run(conn, user_id, run_id, job_id or 0, await db_now(conn))
        found = await imports_repo.get_run(conn, user_id, run_id)
    assert found is not None
    return found


async def get_run(pool: AsyncConnectionPool, user_id: int, run_id: int) -> dict[str, Any]:
    async with pool.connection() as conn:
        run = await imports_repo.get_run(conn, user_id, run_id)
    if run is None:
        raise not_found(run_id)
    return run


async def run_rows(
    pool: AsyncConnectionPool, user_id: int, run_id: int, *, limit: int, offset: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with pool.connection() as conn:
        run = await imports_repo.get_run(conn, user_id, run_id)
        if run is None:
            raise not_found(run_id)
        return run, await imports_repo.run_rows(conn, run_id, limit=limit, offset=offset)


async def list_runs(
    pool: AsyncConnectionPool, user_id: int, limit: int = 20
) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        return await imports_repo.list_runs(conn, user_id, limit)
