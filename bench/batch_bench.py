"""Batch handlers vs one-job handlers: 10k no-op jobs drained by one in-process worker (issue 17).

On a scratch database of its own, each run inserts `--jobs` jobs and times their drain (from
the first claim to the last completion seen in the table) by a worker with a per-job no-op
handler at `--concurrency`, then by one with a no-op batch handler (`--batch-size`,
`--batch-window`), and the same with every job failing once (each retried once), which is where
failures recorded together (`failures.py`) count. Prints medians as JSON.

    .venv/bin/python bench/batch_bench.py [--jobs 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import time
import uuid
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from fluffymail.db import migrate
from fluffymail.db.pool import open_pool
from fluffymail.queue import BatchResult, Job, JobQueue

QUEUE = "bench"


def create_database(server: str) -> str:
    name = f"batch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_conninfo(server, dbname=name)


def drop_database(server: str, url: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{conninfo_to_dict(url)["dbname"]}" WITH (FORCE)')


async def drain(url: str, jobs: int, mode: str, args: argparse.Namespace) -> tuple[float, int]:
    """Seconds from starting the worker to the last job completed, and the fail statements
    sent, for one mode."""
    pool = await open_pool(url, min_size=2, max_size=6)
    queue = JobQueue(pool, poll_interval=0.2)
    fails = 0
    store_fail = queue.store.fail

    async def counted_fail(*a: Any, **k: Any) -> Any:
        nonlocal fails
        fails += 1
        return await store_fail(*a, **k)

    queue.store.fail = counted_fail  # type: ignore[method-assign]
    try:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM queue.job")
        await queue.create_queue(QUEUE, retry_limit=1, retry_delay=0)
        for start in range(0, jobs, 5000):
            await queue.insert(QUEUE, [{"i": i} for i in range(start, min(start + 5000, jobs))])
        failing = mode.endswith("_fail_once")
        seen: set[int] = set()

        async def one(job: Job) -> None:
            if failing and job.id not in seen:
                seen.add(job.id)
                raise RuntimeError("first attempt fails")

        async def batch(batch_jobs: list[Job]) -> BatchResult | None:
            first = [job.id for job in batch_jobs if job.id not in seen] if failing else []
            seen.update(first)
            if first and len(first) == len(batch_jobs):
                raise RuntimeError("first attempt fails")
            return BatchResult(failed=dict.fromkeys(first, "first attempt fails"))

        began = time.perf_counter()
        if mode.startswith("batch"):
            await queue.work(
                QUEUE, batch, batch_size=args.batch_size, batch_window=args.batch_window
            )
        else:
            await queue.work(QUEUE, one, concurrency=args.concurrency)
        while True:
            await asyncio.sleep(0.02)
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) FILTER (WHERE state = 'completed'),"
                    " count(*) FILTER (WHERE state = 'failed')"
                    " FROM queue.job WHERE name = %s",
                    (QUEUE,),
                )
                done, failed = await cur.fetchone()  # type: ignore[misc]
            if failed:
                raise RuntimeError(f"{failed} jobs failed for good")
            if done == jobs:
                return time.perf_counter() - began, fails
    finally:
        await queue.stop(grace=5)
        await pool.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    url = create_database(args.server)
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate.upgrade(conn)
        modes = ("one_by_one", "batch", "one_by_one_fail_once", "batch_fail_once")
        runs: dict[str, list[float]] = {mode: [] for mode in modes}
        fails: dict[str, int] = {}
        for _ in range(args.runs):
            for mode in modes:
                seconds, fails[mode] = await drain(url, args.jobs, mode, args)
                runs[mode].append(seconds)
    finally:
        drop_database(args.server, url)
    medians = {mode: statistics.median(values) for mode, values in runs.items()}
    return {
        "jobs": args.jobs,
        "runs": args.runs,
        "concurrency": args.concurrency,
        "batch_size": args.batch_size,
        "batch_window": args.batch_window,
        "cpus": os.cpu_count(),
        "median_seconds": {mode: round(value, 3) for mode, value in medians.items()},
        "median_jobs_per_second": {
            mode: round(args.jobs / value) for mode, value in medians.items()
        },
        "fail_statements_last_run": fails,
        "all_seconds": {mode: [round(v, 3) for v in values] for mode, values in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--server",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batch-window", type=float, default=0.05)
    args = parser.parse_args()
    logging.getLogger("fluffymail.queue").setLevel(logging.ERROR)  # one warning per failure
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
