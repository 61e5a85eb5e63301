"""What a drain run costs on empty queues (issue 20): a once-a-minute trigger must be cheap.

Two measures against a fresh, migrated database and the product's own job registry:
  * start to exit of `fluffymail worker --drain` as a process (what a cron line or a container
    pays: interpreter start, imports, the run, the exit), median of --runs;
  * the run itself in one process (`serverless.run_drain`), with every SQL statement counted
    (psycopg's cursor execute, wrapped) and grouped by the queue statement it is.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/drain_bench.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from fluffymail import serverless
from fluffymail.config import Settings
from fluffymail.db import migrate
from fluffymail.queue.store import SQL

REPO = Path(__file__).resolve().parents[1]


def create_database(server: str) -> str:
    name = f"drain_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server, dbname=name)

    async def upgrade() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate.upgrade(conn)

    asyncio.run(upgrade())
    return url


def drop_database(server: str, url: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{conninfo_to_dict(url)["dbname"]}" WITH (FORCE)')


def environment(url: str, data_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FLUFFYMAIL_MIGRATE_ON_START": "false",
        "FLUFFYMAIL_DATA_DIR": data_dir,
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
    }


def process_runs(url: str, runs: int, data_dir: str) -> list[tuple[float, float]]:
    """(wall, CPU) seconds from spawning `fluffymail worker --drain` to its exit, per run."""
    argv = [sys.executable, "-m", "fluffymail", "worker", "--drain", "--max-seconds", "50"]
    seconds = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run(argv, env=environment(url, data_dir), capture_output=True, text=True)
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        seconds.append((wall, cpu))
        assert done.returncode == 0, done.stderr
    return seconds


def statement_name(query: Any) -> str:
    text = str(query) if not isinstance(query, str) else query
    for name, sql in SQL.items():
        if text == sql:
            return name
    return " ".join(text.split())[:48]


async def counted_run(url: str, data_dir: str) -> tuple[float, Counter[str]]:
    """One in-process drain run with every statement counted by name."""
    counts: Counter[str] = Counter()
    original = psycopg.AsyncCursor.execute

    async def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        counts[statement_name(query)] += 1
        return await original(self, query, *args, **kwargs)

    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        migrate_on_start=False,
        data_dir=Path(data_dir),
    )
    psycopg.AsyncCursor.execute = execute  # type: ignore[method-assign]
    try:
        began = time.perf_counter()
        report = await serverless.run_drain(config, 50)
        seconds = time.perf_counter() - began
    finally:
        psycopg.AsyncCursor.execute = original  # type: ignore[method-assign]
    assert not report.work_left and not report.done, report.summary()
    return seconds, counts


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = create_database(server)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            process_runs(url, 1, data_dir)  # the first run creates the queues and schedules
            wall = process_runs(url, args.runs, data_dir)
            inproc = [asyncio.run(counted_run(url, data_dir)) for _ in range(args.runs)]
    finally:
        drop_database(server, url)
    counts = inproc[-1][1]
    load = os.getloadavg()[0]
    print(
        json.dumps(
            {
                "process_start_to_exit_seconds": summary([w for w, _ in wall]),
                "process_cpu_seconds": summary([c for _, c in wall]),
                "in_process_run_seconds_median": round(statistics.median(s for s, _ in inproc), 3),
                "statements_per_run": sum(counts.values()),
                "load_average_1min": round(load, 1),
                "statements_by_name": dict(counts.most_common()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
