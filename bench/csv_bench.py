"""CSV import and export benchmark (issue 14's bar: a CSV of 100k contacts imports in < 60 s
and exports in < 10 s). Each run makes a new user in a scratch database, uploads a generated
CSV of `--contacts` contacts (Google/Outlook-style headers: names, address, company, job
title, phone, tags, every tenth with a note) through `POST /api/imports/contacts?confirm=true`
(read, checked and staged), runs the `import-records` job as a worker would (one transaction),
imports the same file again (every row an update), then exports every contact with
`GET /api/contacts/export` as CSV and as vCard, all through the app (httpx ASGI transport).

Usage: .venv/bin/python bench/csv_bench.py [--dsn postgresql://postgres@127.0.0.1/test]
       [--contacts 100000] [--runs 3] [--no-vcf] [--keep]
Prints JSON: seconds per step and run, and their medians.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import logging
import os
import statistics
import time
import uuid
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.db import migrate
from fluffymail.jobs import import_records
from fluffymail.jobs.deps import JobDeps
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts

HEADER = ("First Name", "Last Name", "E-mail Address", "Company", "Job Title", "Mobile Phone",
          "Categories", "Notes")  # fmt: skip
TAGS = [f"Segment {n}" for n in range(20)]
COMPANIES = 2000


def generate(contacts: int) -> bytes:
    """The CSV: contact i is p<i>@co<i % 2000>.com; two in three have a US number of their own."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(contacts):
        co = i % COMPANIES
        writer.writerow(
            (
                f"First{i}", f"Last{i}", f"p{i}@co{co}.com", f"Company {co}",
                ("Engineer", "Founder", "Partner", "")[i % 4],
                f"+1 650 {200 + (i // 10000) % 700:03d} {i % 10000:04d}" if i % 3 else "",
                "; ".join(TAGS[j] for j in {i % 20, (i * 7) % 20}),
                f"Met at conference {i % 50}" if i % 10 == 0 else "",
            )
        )  # fmt: skip
    return out.getvalue().encode()


async def one_run(app: Any, data: bytes, n: int, formats: tuple[str, ...]) -> dict[str, float]:
    pool, queue = app.state.fm.pool, app.state.fm.queue
    account, _ = await accounts.create_user(pool, f"bench{n}@example.com", "benchmark password")
    token = await accounts.create_api_token(pool, account.id, "bench")
    deps = JobDeps(settings=Settings(), pool=pool, queue=queue, log=logging.getLogger("bench"))
    transport = httpx.ASGITransport(app=app)
    timings: dict[str, float] = {}
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://bench",
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    ) as http:
        for label in ("import_new", "import_again"):
            started = time.perf_counter()
            sent = await http.post(
                "/api/imports/contacts?confirm=true", files={"file": ("people.csv", data)}
            )
            assert sent.status_code == 201, sent.text
            staged = time.perf_counter()
            args = import_records.Args(run_id=sent.json()["id"], user_id=account.id)
            output = await import_records.run_import(deps, SystemClock(), args)
            done = time.perf_counter()
            assert output["created"] + output["updated"] == sent.json()["good_rows"], output
            timings[f"{label}_upload_and_check_s"] = round(staged - started, 2)
            timings[f"{label}_job_s"] = round(done - staged, 2)
            timings[f"{label}_total_s"] = round(done - started, 2)
            timings["good_rows"] = sent.json()["good_rows"]
        for fmt in formats:
            started = time.perf_counter()
            size = 0
            async with http.stream("GET", f"/api/contacts/export?format={fmt}") as response:
                assert response.status_code == 200
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
            timings[f"export_{fmt}_s"] = round(time.perf_counter() - started, 2)
            timings[f"export_{fmt}_mb"] = round(size / 1024**2, 1)
    return timings


async def bench(url: str, args: argparse.Namespace) -> list[dict[str, float]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate.upgrade(conn)
    settings = Settings(
        database_url=url, migrate_on_start=False, log_level="WARNING", pool_max_size=4
    )
    app = create_app(settings)
    data = generate(args.contacts)
    runs = []
    async with app.router.lifespan_context(app):
        await app.state.fm.queue.create_queue("analyze-relationships")
        for n in range(args.runs):
            formats = ("csv",) if args.no_vcf else ("csv", "vcf")
            runs.append(await one_run(app, data, n, formats))
            runs[-1]["file_mb"] = round(len(data) / 1024**2, 1)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-vcf", action="store_true", help="skip the vCard export (slow)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    name = f"fm_bench_csv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(args.dsn, dbname=name)
    try:
        runs = asyncio.run(bench(url, args))
    finally:
        if not args.keep:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    medians = {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}
    print(
        json.dumps(
            {
                "contacts": args.contacts,
                "runs": runs,
                "medians": medians,
                "bar": {"import_s": 60, "export_csv_s": 10},
                "ok": medians["import_new_total_s"] < 60
                and medians["import_again_total_s"] < 60
                and medians["export_csv_s"] < 10,
                "database": name if args.keep else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
