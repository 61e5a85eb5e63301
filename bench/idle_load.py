"""Database load of idle workers: statements per second per idle `JobQueue` process.

Starts N queues (each with its own pool, notifier and maintenance, like N worker processes)
working one empty queue, waits for them to settle, then counts the transactions the database
commits in its own scratch database (`pg_stat_database.xact_commit`; every queue statement
runs in autocommit, so one transaction = one statement) over `--seconds`.

    .venv/bin/python bench/idle_load.py [--workers 4] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.db import migrate
from fluffymail.db.pool import open_pool
from fluffymail.queue import JobQueue

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def committed(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


async def measure(url: str, workers: int, seconds: float) -> dict[str, float]:
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
    before, started = committed(url), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = committed(url), time.monotonic() - started
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", DEFAULT_DSN))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    name = f"idle_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(args.dsn, dbname=name)
        print(json.dumps(asyncio.run(measure(url, args.workers, args.seconds))))
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
