"""Queue flow-control and scale benchmark: what fairness/limits cost, and claims at large tables.

    .venv/bin/python bench/flow_bench.py [--dsn URL] [--jobs 10000] [--big 1000000]

Prints one JSON object:
- `fair_vs_plain`: no-op processing (1 process x concurrency 10) on a plain queue and on a queue
  with fairness + per-key concurrency and rate limits on (100 keys, limits not binding); bar >= 0.70.
- `big_key`: median claim latency for small keys with and without one key holding `--big` queued
  jobs; bar: ratio <= 2.
- `finished_rows`: the claim statement's plan and median latency with `--big` finished jobs in
  the table; bar: an index scan on job_fetch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from fluffymail.db import migrate
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.store import SQL

FILL = """INSERT INTO queue.job (name, data, state, group_key, retry_limit, retry_delay, retry_backoff,
          expire_seconds, heartbeat_seconds, retention_seconds, completed_on, keep_until)
          SELECT %(name)s, '{}'::jsonb, %(state)s::queue.job_state, %(key)s, 2, 0, false, 900, 30, 604800,
                 CASE WHEN %(state)s = 'completed' THEN now() END,
                 CASE WHEN %(state)s = 'completed' THEN now() + interval '7 days' END
          FROM generate_series(1, %(n)s)"""


def log(message: str) -> None:
    print(f"[flow_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def fresh_pool(dsn: str) -> tuple[AsyncConnectionPool, str]:
    name = f"fm_flow_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(dsn, dbname=name)
    pool = AsyncConnectionPool(
        url, kwargs={"autocommit": True}, min_size=2, max_size=12, open=False
    )
    await pool.open()
    async with pool.connection() as conn:
        await migrate.upgrade(conn)
    return pool, name


def drop(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def burn_down(queue: JobQueue, name: str, jobs: int) -> float:
    done, count = asyncio.Event(), 0

    async def handler(job: Job) -> None:
        nonlocal count
        count += 1
        if count == jobs:
            done.set()

    started = time.perf_counter()
    await queue.work(name, handler, concurrency=10)
    await done.wait()
    rate = jobs / (time.perf_counter() - started)
    await queue.stop(grace=5)
    return rate


async def fair_vs_plain(dsn: str, jobs: int) -> dict[str, float]:
    rates: dict[str, list[float]] = {"plain": [], "fair_limited": []}
    for _ in range(3):
        for kind in rates:
            pool, db = await fresh_pool(dsn)
            queue = JobQueue(pool)
            if kind == "plain":
                await queue.create_queue("q")
                await queue.insert("q", [{"i": i} for i in range(jobs)])
            else:
                await queue.create_queue(
                    "q", fair=True, group_concurrency=10, group_rate_limit=10**9
                )
                await queue.insert_many(
                    "q", [{"data": {"i": i}, "group_key": f"user-{i % 100}"} for i in range(jobs)]
                )
            async with pool.connection() as conn:
                await conn.execute("ANALYZE queue.job")
            rates[kind].append(await burn_down(queue, "q", jobs))
            log(f"{kind}: {rates[kind][-1]:.0f} jobs/s")
            await pool.close()
            drop(dsn, db)
    plain, fair = statistics.median(rates["plain"]), statistics.median(rates["fair_limited"])
    return {
        "plain_jobs_per_s": round(plain),
        "fair_limited_jobs_per_s": round(fair),
        "ratio": round(fair / plain, 3),
        "bar": 0.70,
        "ok": fair / plain >= 0.70,
        "runs": rates,
    }


async def claim_latency(
    pool: AsyncConnectionPool, query: str, name: str, samples: int = 200
) -> float:
    timings = []
    async with pool.connection() as conn:
        for _ in range(samples):
            started = time.perf_counter()
            rows = await (
                await conn.execute(
                    SQL[query],
                    {
                        "name": name,
                        "limit": 10,
                        "worker": "bench",
                        "done_ids": [],
                        "done_attempts": [],
                        "done_outputs": "[]",
                        "groups": 100,
                    },
                )
            ).fetchall()
            timings.append(time.perf_counter() - started)
            ids = [row[0] for row in rows if row[0] is not None]
            await conn.execute(
                "UPDATE queue.job SET state = 'created', start_after = now() WHERE id = ANY(%s)",
                (ids,),
            )
    return statistics.median(timings) * 1000


async def big_key(dsn: str, big: int) -> dict[str, object]:
    pool, db = await fresh_pool(dsn)
    queue = JobQueue(pool)
    await queue.create_queue("fair", fair=True, group_concurrency=1000)
    await queue.insert_many("fair", [{"data": i, "group_key": f"small-{i}"} for i in range(50)])
    async with pool.connection() as conn:
        await conn.execute("ANALYZE queue.job")
    without = await claim_latency(pool, "fetch_jobs_fair", "fair")
    log(f"claim without big key: {without:.2f} ms; filling {big} jobs into one key")
    async with pool.connection() as conn:
        await conn.execute(FILL, {"name": "fair", "state": "created", "key": "big", "n": big})
        await conn.execute(
            "INSERT INTO queue.job_group (name, group_key, queued, last_claimed_on)"
            " VALUES ('fair', 'big', %s, now()) ON CONFLICT (name, group_key) DO UPDATE"
            " SET queued = EXCLUDED.queued",
            (big,),
        )
        await conn.execute("ANALYZE queue.job")
    with_big = await claim_latency(pool, "fetch_jobs_fair", "fair")
    log(f"claim with big key: {with_big:.2f} ms")
    await pool.close()
    drop(dsn, db)
    return {
        "big_key_jobs": big,
        "claim_ms_without": round(without, 3),
        "claim_ms_with": round(with_big, 3),
        "ratio": round(with_big / without, 3),
        "bar": 2.0,
        "ok": with_big / without <= 2.0,
    }


async def finished_rows(dsn: str, big: int) -> dict[str, object]:
    pool, db = await fresh_pool(dsn)
    queue = JobQueue(pool)
    await queue.create_queue("q")
    await queue.insert("q", [{"i": i} for i in range(1000)])
    async with pool.connection() as conn:
        await conn.execute("ANALYZE queue.job")
    before = await claim_latency(pool, "fetch_jobs", "q")
    async with pool.connection() as conn:
        await conn.execute(FILL, {"name": "q", "state": "completed", "key": None, "n": big})
        await conn.execute("VACUUM ANALYZE queue.job")
    after = await claim_latency(pool, "fetch_jobs", "q")
    async with pool.connection() as conn:
        plan = [
            row[0]
            for row in await (
                await conn.execute(
                    b"EXPLAIN (ANALYZE, COSTS OFF) " + SQL["fetch_jobs"].encode(),
                    {
                        "name": "q",
                        "limit": 10,
                        "worker": "bench",
                        "done_ids": [],
                        "done_attempts": [],
                        "done_outputs": "[]",
                    },
                )
            ).fetchall()
        ]
    await pool.close()
    drop(dsn, db)
    claim_scan = [line.strip() for line in plan if "job_fetch" in line or "Seq Scan on job" in line]
    return {
        "finished_rows": big,
        "claim_ms_before": round(before, 3),
        "claim_ms_after": round(after, 3),
        "claim_scan": claim_scan,
        "ok": any("Index Scan using job_fetch" in line for line in claim_scan),
        "plan": plan,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    result = {
        "fair_vs_plain": await fair_vs_plain(args.dsn, args.jobs),
        "big_key": await big_key(args.dsn, args.big),
        "finished_rows": await finished_rows(args.dsn, args.big),
    }
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    asyncio.run(main())
