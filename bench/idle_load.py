"""Database load of idle workers: statements per second per idle `JobQueue` process.

Starts N queues (each with its own pool, notifier and maintenance, like N worker processes)
working one empty queue, waits for them to settle, then counts the transactions the database
commits in its own scratch database (`pg_stat_database.xact_commit`; every queue statement
runs in autocommit, so one transaction = one statement) over `--seconds`; the statements are
also counted client-side, by name, through a wrapper around psycopg's cursor.

    .venv/bin/python bench/idle_load.py [--workers 4] [--seconds 30] [--scratch]

With --scratch it runs on a scratch server of its own (tests/chaos/cluster.py) with
pg_stat_statements loaded, and also reports the server's own count per statement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.db import migrate
from fluffymail.db.pool import open_pool
from fluffymail.queue import JobQueue
from fluffymail.queue.store import SQL

COUNTS: Counter[str] = Counter()
NAMES = {text: name for name, text in SQL.items()}


def count_statements() -> None:
    """Count every statement psycopg's async cursors execute, by queue SQL file name."""
    original = psycopg.AsyncCursor.execute

    async def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        text = query if isinstance(query, str) else str(query)
        COUNTS[NAMES.get(text, text.split("\n")[0][:40])] += 1
        return await original(self, query, params, **kwargs)

    psycopg.AsyncCursor.execute = execute  # type: ignore[method-assign]


DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def server_counts(url: str, seconds: float, workers: int) -> dict[str, float]:
    """Calls per worker per second by statement (its first line), from pg_stat_statements."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT split_part(query, E'\\n', 1), sum(calls) FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " GROUP BY 1"
        ).fetchall()
    return {
        first[:60]: round(float(calls) / seconds / workers, 3)
        for first, calls in sorted(rows)
        if "pg_stat" not in first
    }


def committed(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


async def measure(url: str, workers: int, seconds: float, scratch: bool) -> dict[str, Any]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate.upgrade(conn)
    pools, queues = [], []
    for _ in range(workers):
        pool = await open_pool(url, min_size=1, max_size=4)
        queue = JobQueue(pool)
        await queue.create_queue("idle")

        async def handler(job: object) -> None:
            return None

        await queue.work("idle", handler, concurrency=10)
        pools.append(pool)
        queues.append(queue)
    await asyncio.sleep(5)  # settle: leader elected, first registrations done
    # pg_stat_database is updated by backends when they go idle (at most every ~1 s)
    if scratch:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
    before, started = committed(url), time.monotonic()
    COUNTS.clear()
    await asyncio.sleep(seconds)
    after, elapsed = committed(url), time.monotonic() - started
    counted = dict(COUNTS)
    server = server_counts(url, elapsed, workers) if scratch else None
    for queue in queues:
        await queue.stop(grace=1)
    for pool in pools:
        await pool.close()
    total = (after - before - 1) / elapsed  # minus our own first read
    return {
        "workers": workers,
        "seconds": round(elapsed, 1),
        "statements_per_s": round(total, 2),
        "per_idle_worker": round(total / workers, 2),
        "client_side_per_worker_per_s": {
            name: round(n / elapsed / workers, 3) for name, n in sorted(counted.items())
        },
        "server_side_per_worker_per_s": server,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", DEFAULT_DSN))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--scratch", action="store_true")
    args = parser.parse_args()
    count_statements()
    if args.scratch:
        scratch(args)
        return
    name = f"idle_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(args.dsn, dbname=name)
        print(json.dumps(asyncio.run(measure(url, args.workers, args.seconds, False))))
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def scratch(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.chaos.cluster import Cluster, pg_bin

    bin_dir = pg_bin()
    if bin_dir is None:
        raise SystemExit("initdb/pg_ctl not found")
    cluster = Cluster(
        bin_dir, ("shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all")
    )
    try:
        cluster.start()
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE idle")
        url = cluster.url("idle")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        print(json.dumps(asyncio.run(measure(url, args.workers, args.seconds, True))))
    finally:
        cluster.stop()
        cluster.remove()


if __name__ == "__main__":
    main()
