"""Extraction benchmark: `fluffymail import` a corpus into a fresh database, then time draining
every `extract-contacts` job with the default team size (one worker process, in process).

Usage: .venv/bin/python bench/extract_bench.py [PATH] [--dsn postgresql://postgres@127.0.0.1/test]
       [--user bench@example.com]
Prints JSON: messages extracted per second (the issue's bar: >= 2,000) and what extraction
made (contacts, visible contacts, companies, merges, automated messages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

import corpus
from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import build_registry, extract_contacts
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = corpus.enron()
DRAIN_POLL_S = 0.02  # how often the drain loop looks whether jobs are left
SUMMARY_SQL = """
SELECT (SELECT count(*) FROM crm.messages),
       (SELECT count(*) FROM crm.messages) - (SELECT count(*) FROM crm.message_pending),
       (SELECT count(*) FROM crm.message_automated),
       (SELECT count(*) FROM crm.contacts),
       (SELECT count(*) FROM crm.contacts
        WHERE created AND merged_into_id IS NULL AND suppressed_reason IS NULL),
       (SELECT count(*) FROM crm.companies),
       (SELECT count(*) FROM crm.contact_merges),
       (SELECT count(*) FROM crm.contact_links),
       (SELECT count(*) FROM crm.user_aliases),
       (SELECT count(*) FROM queue.job WHERE name = 'enrich-contact')
"""


async def _unfinished(queue: JobQueue) -> int:
    depth = (await queue.get_queue_depth()).get(extract_contacts.QUEUE, {})
    return sum(int(depth.get(part, 0)) for part in ("available", "deferred", "active"))


def import_corpus(path: Path, url: str, user: str) -> float:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "FLUFFYMAIL_DATA_DIR": data_dir,
            "FLUFFYMAIL_LOG_LEVEL": "WARNING",
        }
        fluffymail = [sys.executable, "-m", "fluffymail"]
        subprocess.run([*fluffymail, "db", "upgrade"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run(
            [*fluffymail, "import", str(path), "--user", user],
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


async def drain(url: str) -> dict[str, Any]:
    settings = Settings(database_url=url)
    concurrency = settings.queue_concurrency.get(extract_contacts.QUEUE, 5)
    pool = AsyncConnectionPool(
        url,
        min_size=concurrency + 2,
        max_size=concurrency + 4,
        kwargs={"autocommit": True},
        open=False,
    )
    await pool.open(wait=True)
    queue = JobQueue(pool)
    try:
        deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("bench"))
        registry = build_registry(deps, SystemClock())
        await runner.prepare(queue, registry)
        entry = registry[extract_contacts.QUEUE]
        stats = await queue.get_queue_stats(extract_contacts.QUEUE)
        started = time.perf_counter()
        await queue.work(
            entry.name, entry.handler, concurrency=concurrency, batch_size=entry.batch_size
        )
        while True:  # get_queue_depth: partial indexes only, cheaper than get_queue_stats
            if not await _unfinished(queue):
                break
            await asyncio.sleep(DRAIN_POLL_S)
        seconds = time.perf_counter() - started
        failed = await queue.get_queue_stats(extract_contacts.QUEUE)
        async with pool.connection() as conn:
            row = await (await conn.execute(SUMMARY_SQL)).fetchone()
        assert row is not None
    finally:
        await queue.stop(grace=5)
        await pool.close()
    keys = (
        "messages",
        "processed",
        "automated",
        "contacts",
        "visible_contacts",
        "companies",
        "merges",
        "links",
        "aliases",
        "enrich_jobs",
    )
    summary = dict(zip(keys, row, strict=True))
    return {
        "concurrency": concurrency,
        "jobs": stats["created"],
        "failed_jobs": failed.get("failed", 0),
        "seconds": round(seconds, 3),
        "msgs_per_s": round(summary["processed"] / seconds),
        **summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--user", default="bench@example.com")
    args = parser.parse_args()
    name = f"fm_xbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(args.dsn, dbname=name)
        import_seconds = import_corpus(args.path.resolve(), url, args.user)
        result = asyncio.run(drain(url))
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    output = {
        "corpus": str(args.path),
        "cpus": os.cpu_count(),
        "import_seconds": round(import_seconds, 3),
        "extract": result,
    }
    sys.stdout.write(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
