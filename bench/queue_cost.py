"""Per-job database cost of draining a queue: statements, row updates, WAL, CPU (issue 16 bar).

Wall-clock throughput on a shared machine is noisy; these counts are not. On a scratch server
of its own (tests/chaos/cluster.py, with pg_stat_statements), it inserts `--jobs` no-op jobs,
drains them with `--queues` in-process `JobQueue`s (each with its own pool, notifier and
maintenance, like worker processes) working at `--concurrency`, and reports per job:
statements by SQL file (client-side count and the server's), `queue.job` row updates (and how
many were HOT), WAL bytes and blocks dirtied (pg_stat_statements), the statements' execution
time in the server, the backends' CPU (/proc) and this process's CPU.

    .venv/bin/python bench/queue_cost.py [--jobs 20000] [--queues 1] [--runs 3]

To measure another revision, export it and put its `src` first:
`git archive REV | tar -x -C /tmp/rev && PYTHONPATH=/tmp/rev/src .venv/bin/python bench/queue_cost.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

import fluffymail
from fluffymail.db import migrate
from fluffymail.db.pool import open_pool
from fluffymail.queue import JobQueue
from fluffymail.queue.store import SQL

COUNTS: Counter[str] = Counter()
NAMES = {text: name for name, text in SQL.items()}
FIRST_LINES = {text.split("\n")[0]: name for name, text in SQL.items()}
QUEUE = "cost"
TICK = os.sysconf("SC_CLK_TCK")


def count_statements() -> None:
    """Count every statement psycopg's async cursors execute, by queue SQL file name."""
    original = psycopg.AsyncCursor.execute

    async def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        text = query if isinstance(query, str) else str(query)
        COUNTS[NAMES.get(text, text.split("\n")[0][:40])] += 1
        return await original(self, query, params, **kwargs)

    psycopg.AsyncCursor.execute = execute  # type: ignore[method-assign]


def backend_cpu(conn: psycopg.Connection[Any]) -> float:
    """CPU seconds (user + system) of every other backend of this database, from /proc."""
    pids = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
    ).fetchall()
    total = 0
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def server_stats(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT query, calls, rows, total_exec_time, wal_bytes, shared_blks_dirtied"
        " FROM pg_stat_statements"
        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchall()
    by_name: dict[str, dict[str, float]] = {}
    for query, calls, nrows, ms, wal, dirtied in rows:
        name = FIRST_LINES.get(query.split("\n")[0], query.split("\n")[0][:40])
        entry = by_name.setdefault(name, {"calls": 0, "rows": 0, "ms": 0.0, "wal": 0, "dirtied": 0})
        for key, value in zip(
            ("calls", "rows", "ms", "wal", "dirtied"), (calls, nrows, ms, wal, dirtied), strict=True
        ):
            entry[key] += float(value)
    return by_name


def table_stats(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
        " WHERE schemaname = 'queue' AND relname = 'job'"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def settled(queue: JobQueue) -> None:
    """Wait until no attempt is active (the last acks were taken)."""
    active = 1
    while active:
        await asyncio.sleep(0.01)
        active = (await queue.get_queue_depth())[QUEUE]["active"]


async def drain(url: str, jobs: int, queues: int, concurrency: int) -> dict[str, Any]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate.upgrade(conn)
        await conn.execute("TRUNCATE queue.job CASCADE")
    pools, qs = [], []
    for _ in range(queues):
        pool = await open_pool(url, min_size=2, max_size=12)
        pools.append(pool)
        qs.append(JobQueue(pool))
    await qs[0].create_queue(QUEUE)
    for start in range(0, jobs, 5000):
        await qs[0].insert(QUEUE, [{"i": i} for i in range(start, min(start + 5000, jobs))])
    for q in qs:
        await q.start()
    await asyncio.sleep(1.0)  # leader elected, rows registered: the drain starts quiet
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("ANALYZE queue.job")
        admin.execute("SELECT pg_stat_statements_reset()")
        await asyncio.sleep(0.8)  # table stats are flushed at most once a second
        upd0, hot0 = table_stats(admin)
        cpu0, py0 = backend_cpu(admin), time.process_time()
        COUNTS.clear()
        done = asyncio.Event()
        handled = 0

        async def handler(job: object) -> None:
            nonlocal handled
            handled += 1
            if handled >= jobs:
                done.set()

        started = time.monotonic()
        for q in qs:
            await q.work(QUEUE, handler, concurrency=concurrency, batch_size=10)
        await asyncio.wait_for(done.wait(), 600)
        await settled(qs[0])
        elapsed = time.monotonic() - started
        py = time.process_time() - py0
        cpu = backend_cpu(admin) - cpu0
        counted = dict(COUNTS)
        for q in qs:
            await q.stop(grace=1)
        for pool in pools:
            await pool.close()
        await asyncio.sleep(0.8)
        upd, hot = table_stats(admin)
        server = server_stats(admin)
    per = 1.0 / jobs
    queue_sql = {k: v for k, v in server.items() if k in SQL}
    return {
        "jobs_per_s": round(jobs / elapsed),
        "statements_per_job": {k: round(n * per, 4) for k, n in sorted(counted.items())},
        "round_trips_per_job": round(sum(counted.values()) * per, 4),
        "job_row_updates_per_job": round((upd - upd0) * per, 3),
        "hot_updates_per_job": round((hot - hot0) * per, 3),
        "server_exec_us_per_job": round(sum(v["ms"] for v in queue_sql.values()) * 1000 * per, 1),
        "wal_bytes_per_job": round(sum(v["wal"] for v in queue_sql.values()) * per),
        "blocks_dirtied_per_job": round(sum(v["dirtied"] for v in queue_sql.values()) * per, 3),
        "backend_cpu_us_per_job": round(cpu * 1e6 * per, 1),
        "python_cpu_us_per_job": round(py * 1e6 * per, 1),
        "by_statement": {
            k: {m: round(x * per, 4) for m, x in v.items()} for k, v in sorted(queue_sql.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--queues", type=int, default=1, help="JobQueues (worker 'processes')")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    count_statements()
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
            admin.execute("CREATE DATABASE cost")
        url = cluster.url("cost")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        runs = [
            asyncio.run(drain(url, args.jobs, args.queues, args.concurrency))
            for _ in range(args.runs)
        ]
    finally:
        cluster.stop()
        cluster.remove()
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    print(
        json.dumps(
            {
                "source": str(Path(fluffymail.__file__).parent),
                "jobs": args.jobs,
                "queues": args.queues,
                "concurrency": args.concurrency,
                "loadavg": os.getloadavg(),
                "median": {k: statistics.median(r[k] for r in runs) for k in keys},
                "runs": runs,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
