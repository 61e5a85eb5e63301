"""Job-queue benchmark: FluffyMail's PostgreSQL queue vs procrastinate and pgqueuer on one server.

Runs every scenario for each system (own database per system, reset per scenario), verifies job
counts in the DB, and prints one JSON object with medians, ratios and pass/fail bars on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from peers import SYSTEMS, load_adapter
from peers.common import Adapter, BenchError, Payload
from peers.runner import Child, drain_main, latency_main, spawn

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SCENARIOS = (
    "processing_1x10",
    "processing_2x10",
    "enqueue_one_by_one",
    "bulk_insert",
    "latency_idle",
)
PG_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "shared_buffers",
    "wal_level",
    "wal_sync_method",
    "wal_buffers",
    "wal_writer_delay",
    "commit_delay",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
    "work_mem",
)
READY_TIMEOUT_S = 120.0
MONITOR_POLL_S = 0.025  # burn-down end = first poll that sees no unfinished job


@dataclass(frozen=True, slots=True)
class Params:
    jobs: int
    enqueue_jobs: int
    bulk_batches: int
    bulk_size: int
    latency_jobs: int
    latency_gap_ms: float
    concurrency: int
    repeats: int

    def drain_timeout(self) -> float:
        return 60.0 + self.jobs / 100.0


Scenario = Callable[[Adapter, str, Params], dict[str, Any]]


def log(message: str) -> None:
    print(f"[queue_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- databases -------------------------------------------------------------------------------


def bench_dbname(system: str) -> str:
    return f"fm_bench_{system}"


def system_dsn(admin_dsn: str, system: str) -> str:
    return make_conninfo(admin_dsn, dbname=bench_dbname(system))


def reset_database(admin_dsn: str, dbname: str) -> None:
    """Drop and recreate one bench database (durability settings are never touched)."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        name = sql.Identifier(dbname)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def analyze(dsn: str) -> None:
    """Plain ANALYZE after the pre-insert, for every system alike: in steady state autovacuum has
    statistics on the queue table; on a fresh table the planner guesses (procrastinate's fetch
    query then sorts the whole backlog on every fetch, making burn-down O(N^2))."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")


async def fresh_database(adapter: Adapter, admin_dsn: str) -> str:
    reset_database(admin_dsn, bench_dbname(adapter.name))
    dsn = system_dsn(admin_dsn, adapter.name)
    await adapter.install(dsn)
    return dsn


# --- helpers ---------------------------------------------------------------------------------


def payloads(start: int, n: int) -> list[Payload]:
    return [{"i": start + j} for j in range(n)]


def percentile(sorted_values: list[float], pct: float) -> float:
    """Linear-interpolated percentile of an ascending list."""
    if not sorted_values:
        raise BenchError("percentile of no samples")
    rank = (len(sorted_values) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def check_handled(system: str, reports: list[dict[str, Any]], n: int) -> None:
    """Handler side of exactly-once: every i in range(n) ran, and ran once, across processes."""
    handled = sum(r["handled"] for r in reports)
    seen: set[int] = set()
    for report in reports:
        seen.update(report["seen"])
    if handled != n or seen != set(range(n)):
        missing = n - len(seen & set(range(n)))
        raise BenchError(
            f"{system}: handlers ran {handled} times for {len(seen)} distinct jobs, expected {n} (missing {missing})"
        )


async def insert_all(adapter: Adapter, dsn: str, batches: list[list[Payload]]) -> float:
    """Insert the batches with the bulk API; return the elapsed seconds."""
    producer = await adapter.open_producer(dsn)
    try:
        started = time.perf_counter()
        for batch in batches:
            await producer.insert_many(batch)
        return time.perf_counter() - started
    finally:
        await producer.aclose()


def chunks(n: int, size: int) -> list[list[Payload]]:
    return [payloads(start, min(size, n - start)) for start in range(0, n, size)]


# --- scenarios -------------------------------------------------------------------------------


async def wait_drained(adapter: Adapter, dsn: str, children: list[Child], params: Params) -> float:
    """Poll the DB until no job is waiting or in flight; return the wall time it was first seen."""
    monitor = await adapter.open_monitor(dsn)
    deadline = time.monotonic() + params.drain_timeout()
    try:
        while await monitor.remaining() > 0:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{adapter.name}: queue not drained within {params.drain_timeout():.0f}s"
                )
            for child in children:
                child.raise_if_failed()
            await asyncio.sleep(MONITOR_POLL_S)
        return time.time()
    finally:
        await monitor.aclose()


async def run_drain(adapter: Adapter, dsn: str, processes: int, params: Params) -> dict[str, Any]:
    """Start `processes` workers, release them together, time until the DB shows nothing left.

    Each worker also drains on its own and exits; its report gives the handler-side counts.
    """
    go = mp.get_context("spawn").Event()
    children = [
        spawn(drain_main, adapter.name, dsn, params.concurrency, go) for _ in range(processes)
    ]
    ok = False
    try:
        for child in children:
            await asyncio.to_thread(child.expect, "ready", READY_TIMEOUT_S)
        started = time.time()
        go.set()
        finished = await wait_drained(adapter, dsn, children, params)
        reports = [
            await asyncio.to_thread(child.expect, "done", params.drain_timeout())
            for child in children
        ]
        ok = True
    finally:
        for child in children:
            child.reap(force=not ok)
    return {
        "seconds": finished - started,
        "worker_exit_seconds": max(r["end"] for r in reports) - started,
        "reports": reports,
    }


def processing(processes: int) -> Scenario:
    def scenario(adapter: Adapter, admin_dsn: str, params: Params) -> dict[str, Any]:
        n = params.jobs
        dsn = asyncio.run(fresh_database(adapter, admin_dsn))
        asyncio.run(insert_all(adapter, dsn, chunks(n, params.bulk_size)))
        asyncio.run(adapter.verify(dsn, done=0, pending=n))
        analyze(dsn)
        drained = asyncio.run(run_drain(adapter, dsn, processes, params))
        check_handled(adapter.name, drained["reports"], n)
        counts = asyncio.run(adapter.verify(dsn, done=n, pending=0))
        return {
            "jobs_per_s": n / drained["seconds"],
            "seconds": drained["seconds"],
            "worker_exit_seconds": drained["worker_exit_seconds"],
            "jobs": n,
            "per_process_handled": [r["handled"] for r in drained["reports"]],
            "db_counts": counts,
        }

    return scenario


async def _enqueue_one_by_one(adapter: Adapter, admin_dsn: str, params: Params) -> dict[str, Any]:
    n = params.enqueue_jobs
    dsn = await fresh_database(adapter, admin_dsn)
    jobs = payloads(0, n)
    producer = await adapter.open_producer(dsn)
    try:
        started = time.perf_counter()
        for payload in jobs:
            await producer.send(payload)
        elapsed = time.perf_counter() - started
    finally:
        await producer.aclose()
    counts = await adapter.verify(dsn, done=0, pending=n)
    return {"jobs_per_s": n / elapsed, "seconds": elapsed, "jobs": n, "db_counts": counts}


def enqueue_one_by_one(adapter: Adapter, admin_dsn: str, params: Params) -> dict[str, Any]:
    return asyncio.run(_enqueue_one_by_one(adapter, admin_dsn, params))


async def _bulk_insert(adapter: Adapter, admin_dsn: str, params: Params) -> dict[str, Any]:
    n = params.bulk_batches * params.bulk_size
    dsn = await fresh_database(adapter, admin_dsn)
    elapsed = await insert_all(adapter, dsn, chunks(n, params.bulk_size))
    counts = await adapter.verify(dsn, done=0, pending=n)
    return {
        "jobs_per_s": n / elapsed,
        "seconds": elapsed,
        "jobs": n,
        "batch": params.bulk_size,
        "db_counts": counts,
    }


def bulk_insert(adapter: Adapter, admin_dsn: str, params: Params) -> dict[str, Any]:
    return asyncio.run(_bulk_insert(adapter, admin_dsn, params))


async def _send_paced(adapter: Adapter, dsn: str, child: Child, params: Params) -> None:
    """Once the worker reports idle, send one job at a time, stamping time.time() into it."""
    producer = await adapter.open_producer(dsn)
    try:
        await asyncio.to_thread(child.expect, "ready", READY_TIMEOUT_S)
        for i in range(params.latency_jobs):
            await producer.send({"i": i, "t": time.time()})
            await asyncio.sleep(params.latency_gap_ms / 1000.0)
    finally:
        await producer.aclose()


def latency_idle(adapter: Adapter, admin_dsn: str, params: Params) -> dict[str, Any]:
    k = params.latency_jobs
    dsn = asyncio.run(fresh_database(adapter, admin_dsn))
    timeout = 60.0 + k * params.latency_gap_ms / 1000.0
    child = spawn(latency_main, adapter.name, dsn, params.concurrency, k, timeout)
    ok = False
    try:
        asyncio.run(_send_paced(adapter, dsn, child, params))
        report = child.expect("done", timeout)
        ok = True
    finally:
        child.reap(force=not ok)
    check_handled(adapter.name, [report], k)
    counts = asyncio.run(adapter.verify(dsn, done=k, pending=0))
    lat_ms = sorted(x * 1000.0 for x in report["latencies"])
    return {
        "p50_ms": percentile(lat_ms, 50),
        "p99_ms": percentile(lat_ms, 99),
        "max_ms": lat_ms[-1],
        "mean_ms": statistics.fmean(lat_ms),
        "jobs": k,
        "db_counts": counts,
    }


SCENARIO_FUNCS: dict[str, Scenario] = {
    "processing_1x10": processing(1),
    "processing_2x10": processing(2),
    "enqueue_one_by_one": enqueue_one_by_one,
    "bulk_insert": bulk_insert,
    "latency_idle": latency_idle,
}

# result key -> (scenario, metric in the scenario's run dict)
RESULT_KEYS: dict[str, tuple[str, str]] = {
    "processing_1x10_jobs_per_s": ("processing_1x10", "jobs_per_s"),
    "processing_2x10_jobs_per_s": ("processing_2x10", "jobs_per_s"),
    "enqueue_one_by_one_jobs_per_s": ("enqueue_one_by_one", "jobs_per_s"),
    "bulk_insert_jobs_per_s": ("bulk_insert", "jobs_per_s"),
    "latency_idle_p50_ms": ("latency_idle", "p50_ms"),
    "latency_idle_p99_ms": ("latency_idle", "p99_ms"),
}

# ratio name -> (result key, peer, bar comparison, bar value); ratio = fluffymail / peer
RATIOS: dict[str, tuple[str, str, str, float]] = {
    "processing_1x10_vs_pgqueuer": ("processing_1x10_jobs_per_s", "pgqueuer", ">=", 2.0),
    "processing_1x10_vs_procrastinate": ("processing_1x10_jobs_per_s", "procrastinate", ">=", 5.0),
    "processing_2x10_vs_pgqueuer": ("processing_2x10_jobs_per_s", "pgqueuer", ">=", 2.0),
    "processing_2x10_vs_procrastinate": ("processing_2x10_jobs_per_s", "procrastinate", ">=", 5.0),
    "bulk_vs_pgqueuer": ("bulk_insert_jobs_per_s", "pgqueuer", ">=", 1.5),
    "enqueue_vs_pgqueuer": ("enqueue_one_by_one_jobs_per_s", "pgqueuer", ">=", 1.0),
    "p99_latency_vs_pgqueuer": ("latency_idle_p99_ms", "pgqueuer", "<=", 1.0),
}


# --- report ----------------------------------------------------------------------------------


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def git_revision() -> str | None:
    """The checkout's HEAD (with -dirty), i.e. which FluffyMail queue code was measured."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info(admin_dsn: str) -> dict[str, Any]:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            (list(PG_SETTINGS),),
        ).fetchall()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "loadavg_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pg_version": pg_version[0] if pg_version else None,
        "pg_settings": dict(sorted(rows)),
        "git_revision": git_revision(),
        "packages": {
            p: package_version(p)
            for p in ("pgqueuer", "procrastinate", "psycopg", "psycopg-pool", "asyncpg")
        },
    }


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """Median over the repeats of each headline metric that has at least one successful run."""
    out: dict[str, float] = {}
    for key, (scenario, metric) in RESULT_KEYS.items():
        values = [run[metric] for run in runs.get(scenario, [])]
        if values:
            out[key] = round(statistics.median(values), 3)
    return out


def compare(
    results: dict[str, dict[str, Any]],
) -> tuple[dict[str, float | None], dict[str, dict[str, Any]]]:
    ratios: dict[str, float | None] = {}
    bars: dict[str, dict[str, Any]] = {}
    ours = results.get("fluffymail", {})
    for name, (key, peer, op, bar) in RATIOS.items():
        mine, theirs = ours.get(key), results.get(peer, {}).get(key)
        value = (
            round(mine / theirs, 3)
            if isinstance(mine, float) and isinstance(theirs, float) and theirs
            else None
        )
        ratios[name] = value
        ok = None if value is None else (value >= bar if op == ">=" else value <= bar)
        bars[name] = {"value": value, "bar": f"{op} {bar}", "ok": ok}
    return ratios, bars


def run_all(
    adapters: dict[str, Adapter],
    admin_dsn: str,
    params: Params,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Every repeat runs every scenario for every system; system order rotates per repeat."""
    raw: dict[str, Any] = {name: {scenario: [] for scenario in scenarios} for name in adapters}
    failures: dict[str, list[dict[str, Any]]] = {name: [] for name in adapters}
    order = list(adapters)
    for repeat in range(params.repeats):
        rotated = order[repeat % len(order) :] + order[: repeat % len(order)] if order else []
        for scenario in scenarios:
            for name in rotated:
                started = time.monotonic()
                try:
                    run = SCENARIO_FUNCS[scenario](adapters[name], admin_dsn, params)
                except Exception as exc:  # recorded in the JSON and the exit status
                    failures[name].append(
                        {
                            "scenario": scenario,
                            "repeat": repeat,
                            "error": f"{type(exc).__name__}: {exc}",
                        }
                    )
                    log(f"FAILED {name} {scenario} #{repeat + 1}: {type(exc).__name__}: {exc}")
                    continue
                raw[name][scenario].append(run)
                headline = {
                    k: round(v, 2)
                    for k, v in run.items()
                    if k in ("jobs_per_s", "p50_ms", "p99_ms")
                }
                log(
                    f"{name} {scenario} #{repeat + 1}: {headline} ({time.monotonic() - started:.1f}s)"
                )
    return raw, failures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("DATABASE_URL", DEFAULT_DSN),
        help="admin DSN; bench DBs are created next to it",
    )
    parser.add_argument(
        "--jobs", type=int, default=10_000, help="jobs pre-inserted for the processing scenarios"
    )
    parser.add_argument("--only", default=",".join(SYSTEMS), help="comma-separated systems to run")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default: all of {', '.join(SCENARIOS)})",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--enqueue-jobs", type=int, default=2_000, help="one-job-per-transaction sends"
    )
    parser.add_argument("--bulk-batches", type=int, default=10)
    parser.add_argument("--bulk-size", type=int, default=5_000)
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--latency-gap-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=10, help="per worker process")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = Params(
        jobs=args.jobs,
        enqueue_jobs=args.enqueue_jobs,
        bulk_batches=args.bulk_batches,
        bulk_size=args.bulk_size,
        latency_jobs=args.latency_jobs,
        latency_gap_ms=args.latency_gap_ms,
        concurrency=args.concurrency,
        repeats=args.repeats,
    )
    admin_dsn = args.dsn
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    adapters: dict[str, Adapter] = {}
    results: dict[str, dict[str, Any]] = {}
    for system in wanted:
        try:
            adapters[system] = load_adapter(system)
        except Exception as exc:  # a system that cannot import is reported and skipped
            results[system] = {"error": f"adapter failed to import: {type(exc).__name__}: {exc}"}
            log(f"skipping {system}: {results[system]['error']}")
    machine = machine_info(admin_dsn)
    log(f"systems {list(adapters)}; params {asdict(params)}")
    started = time.monotonic()
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = [s for s in scenarios if s not in SCENARIO_FUNCS]
    if unknown:
        log(f"unknown scenarios {unknown}; known: {list(SCENARIO_FUNCS)}")
        return 2
    raw, failures = run_all(adapters, admin_dsn, params, scenarios)
    for name, runs in raw.items():
        results[name] = summarize(runs)
        if failures[name]:
            results[name]["errors"] = failures[name]
    ratios, bars = compare(results)
    machine["loadavg_at_end"] = list(os.getloadavg())
    report = {
        "machine": machine,
        "params": {
            **asdict(params),
            "dsn_host": conninfo_to_dict(admin_dsn).get("host"),
            "analyze_after_preinsert": True,
            "burn_down_end": f"first monitor poll (every {MONITOR_POLL_S}s) seeing no unfinished job",
        },
        "configs": {name: adapter.config() for name, adapter in adapters.items()},
        "results": results,
        "ratios": ratios,
        "bars": bars,
        "raw": raw,
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=2, default=str))
    return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
