"""Durable-workflow benchmark: FluffyMail's workflows vs DBOS Transact, in one run on one server.

Each system gets its own database (cloned per scenario from a template the system installed
itself), its workers run in separate processes, and the parent starts workflows, sends events
and kills workers. Scenarios (issue 17, "Measured against the anchors"):
  throughput    workflows of 3 no-op steps completed per second, 1 and 2 worker processes
  step_cost     wall time and database round trips per step (1- vs 11-step workflows, one at a
                time; round trips counted by a TCP proxy in front of PostgreSQL, see wfpeers/proxy)
  wake_latency  event sent -> waiting workflow running again, p50/p99
  recovery      SIGKILL the worker mid-workflow, start a new one: time until the workflow runs
                again, and how many completed steps ran twice (side-effect rows in a table)
Prints one JSON object (medians over the repeats, ratios) on stdout; --out writes it too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from peers.common import BenchError
from peers.runner import Child, spawn
from wfpeers import SYSTEMS, load_side
from wfpeers.common import Flag, Side, WorkerConfig, read_effects
from wfpeers.proxy import CONNECTIONS, STATEMENTS, TURNS, proxy_main
from wfpeers.worker import serve_main

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
READY_TIMEOUT_S = 120.0
POLL_S = 0.02
IDLE_S = 2.0  # after a counted run, the idle worker's own traffic is measured this long
SHORT_STEPS, LONG_STEPS = 1, 11
KILL_AT_STEP = 4  # recovery: the worker is killed while this step (0-based) is running
PG_SETTINGS = ("fsync", "synchronous_commit", "shared_buffers", "max_connections", "wal_level")


@dataclass(frozen=True, slots=True)
class Params:
    repeats: int
    workflows: int  # throughput: workflows per run
    step_workflows: int  # step_cost: workflows per step count
    events: int  # wake_latency: waiting workflows, one event each
    event_gap_ms: float
    recovery_steps: int
    recovery_step_s: float
    worker: WorkerConfig


def log(message: str) -> None:
    print(f"[workflow_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- databases -------------------------------------------------------------------------------


def with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def via_proxy(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    query = "sslmode=disable" + (f"&{parts.query}" if parts.query else "")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def recreate(admin: str, dbname: str, template: str | None = None) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        name = sql.Identifier(dbname)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        else:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(template))
            )


def drop(admin: str, dbname: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def template_name(system: str) -> str:
    return f"fm_wfbench_{system}_template"


def install_template(side: Side, admin: str, worker: WorkerConfig) -> None:
    name = template_name(side.name)
    recreate(admin, name)
    started = time.perf_counter()
    side.install(with_db(admin, name), worker)
    log(f"{side.name}: schema installed in {time.perf_counter() - started:.1f}s")


def fresh_database(side: Side, admin: str) -> str:
    """A database cloned from the system's template: same schema, no rows, no connections."""
    name = f"fm_wfbench_{side.name}"
    recreate(admin, name, template_name(side.name))
    return with_db(admin, name)


def pg_settings(admin: str) -> dict[str, str]:
    with psycopg.connect(admin, autocommit=True) as conn:
        return {
            s: str(conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(s))).fetchone()[0])
            for s in PG_SETTINGS
        }


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Workers:
    """Worker processes of one system sharing a go event, a stop event and two counters."""

    side: Side
    dsn: str
    config: WorkerConfig
    ctx: Any
    children: list[Child]
    ended: Any
    waiters: Any
    go: Flag
    stop: Flag

    @classmethod
    def start(cls, side: Side, dsn: str, config: WorkerConfig, processes: int) -> Workers:
        ctx = mp.get_context("spawn")
        workers = cls(
            side,
            dsn,
            config,
            ctx,
            [],
            ctx.Value("i", 0),
            ctx.Value("i", 0),
            Flag(ctx.RawValue("i", 0)),
            Flag(ctx.RawValue("i", 0)),
        )
        for _ in range(processes):
            workers.add()
        return workers

    def add(self) -> Child:
        child = spawn(
            serve_main,
            self.side.name,
            self.dsn,
            self.config,
            (self.ended, self.waiters),
            self.go,
            self.stop,
        )
        self.children.append(child)
        return child

    def wait_ready(self, children: list[Child] | None = None) -> list[tuple[int, float]]:
        """(pid, process start time) of each child, once it serves."""
        return [c.expect("ready", READY_TIMEOUT_S) for c in children or self.children]

    def check(self) -> None:
        for child in self.children:
            if child.process.is_alive() or child.process.exitcode != -9:
                child.raise_if_failed()

    def finish(self) -> list[dict[str, Any]]:
        """Stop the live workers and return their tallies."""
        self.stop.set()
        live = [c for c in self.children if c.process.exitcode is None]
        reports = [c.expect("done", 60) for c in live]
        for child in live:
            child.reap()
        return reports

    def abort(self) -> None:
        self.stop.set()
        for child in self.children:
            child.reap(force=True)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, workers: Workers) -> float:
    """Poll until `predicate()`; return the time.time() it first held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        workers.check()
        if time.monotonic() > deadline:
            raise BenchError(f"{workers.side.name}: {what} not within {timeout:.0f}s")
        time.sleep(POLL_S)
    return time.time()


def merged(reports: list[dict[str, Any]], key: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for report in reports:
        for i, t in report[key].items():
            out[int(i)] = min(float(t), out.get(int(i), float("inf")))
    return out


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- scenarios -------------------------------------------------------------------------------


def run_all_done(
    side: Side, client: Any, ids: list[str], workers: Workers, timeout: float
) -> float:
    """Wait until every workflow's body ended, then until the system stores all as done."""
    n = len(ids)
    wait_until(lambda: workers.ended.value >= n, timeout, f"{n} workflow bodies", workers)
    return wait_until(
        lambda: client.states(ids).get(side.done_state, 0) == n,
        timeout,
        f"{n} workflows stored as {side.done_state}",
        workers,
    )


def throughput(side: Side, admin: str, params: Params, processes: int) -> dict[str, Any]:
    """Pre-start N workflows of 3 no-op steps, start the workers, open the gate: completions/s."""
    n = params.workflows
    dsn = fresh_database(side, admin)
    client = side.open_client(dsn)
    workers = Workers.start(side, dsn, params.worker, processes)
    try:
        started = time.perf_counter()
        ids = [client.start("steps", {"i": i, "n": 3}) for i in range(n)]
        start_s = time.perf_counter() - started
        workers.wait_ready()
        t_go = time.time()
        client.open_gate(params.worker.concurrency)
        workers.go.set(params.worker.concurrency)
        t_done = run_all_done(side, client, ids, workers, 120 + n / 10)
        reports = workers.finish()
    except BaseException:
        workers.abort()
        raise
    finally:
        client.close()
    ended = sorted(merged(reports, "ended").values())
    steps_run = sum(r["steps_run"] for r in reports)
    if len(ended) != n or steps_run != 3 * n:
        raise BenchError(f"{side.name}: {len(ended)} bodies ended, {steps_run} steps for {n}")
    lo, hi = int(0.1 * n), int(0.9 * n) - 1
    return {
        "processes": processes,
        "workflows": n,
        "start_s": round(start_s, 3),
        "elapsed_s": round(t_done - t_go, 3),
        "wf_per_s": round(n / (t_done - t_go), 1),
        "steady_wf_per_s": round((hi - lo) / (ended[hi] - ended[lo]), 1),
        "first_end_after_go_s": round(ended[0] - t_go, 3),
    }


def _steps_run(
    side: Side, admin: str, params: Params, n_steps: int, proxy: tuple[int, Any] | None
) -> dict[str, Any]:
    """M workflows of n_steps no-op steps, one at a time in one worker process."""
    m = params.step_workflows
    dsn = fresh_database(side, admin)
    client = side.open_client(dsn)
    worker_dsn = dsn if proxy is None else via_proxy(dsn, proxy[0])
    workers = Workers.start(side, worker_dsn, params.worker, 1)
    try:
        ids = [client.start("steps", {"i": i, "n": n_steps}) for i in range(m)]
        workers.wait_ready()
        snap0 = list(proxy[1]) if proxy else None
        t0 = time.time()
        client.open_gate(1)
        workers.go.set(1)
        t1 = run_all_done(side, client, ids, workers, 120 + m * n_steps)
        snap1 = list(proxy[1]) if proxy else None
        if proxy:
            time.sleep(IDLE_S)
        t2 = time.time()
        snap2 = list(proxy[1]) if proxy else None
        reports = workers.finish()
    except BaseException:
        workers.abort()
        raise
    finally:
        client.close()
    entered, ended = merged(reports, "first_entry"), merged(reports, "ended")
    steps_run = sum(r["steps_run"] for r in reports)
    if len(ended) != m or steps_run != m * n_steps:
        raise BenchError(f"{side.name}: {len(ended)} ended, {steps_run} steps for {m}x{n_steps}")
    out: dict[str, Any] = {
        "steps": n_steps,
        "workflows": m,
        "median_body_s": statistics.median(ended[i] - entered[i] for i in range(m)),
    }
    if proxy and snap0 and snap1 and snap2:
        idle = {k: (snap2[k] - snap1[k]) / (t2 - t1) for k in (TURNS, STATEMENTS)}
        window = t1 - t0
        out |= {
            "window_s": round(window, 3),
            "round_trips": snap1[TURNS] - snap0[TURNS],
            "statements": snap1[STATEMENTS] - snap0[STATEMENTS],
            "idle_round_trips_per_s": round(idle[TURNS], 2),
            "idle_statements_per_s": round(idle[STATEMENTS], 2),
            "round_trips_net": snap1[TURNS] - snap0[TURNS] - idle[TURNS] * window,
            "statements_net": snap1[STATEMENTS] - snap0[STATEMENTS] - idle[STATEMENTS] * window,
            "connections": snap2[CONNECTIONS],
        }
    return out


def step_cost(side: Side, admin: str, params: Params, proxy: tuple[int, Any]) -> dict[str, Any]:
    """Per step = (11-step workflow - 1-step workflow) / 10: wall time from direct runs, round
    trips and statements from runs through the counting proxy, less the idle worker's traffic."""
    m, extra = params.step_workflows, LONG_STEPS - SHORT_STEPS
    short = _steps_run(side, admin, params, SHORT_STEPS, None)
    long = _steps_run(side, admin, params, LONG_STEPS, None)
    short_p = _steps_run(side, admin, params, SHORT_STEPS, proxy)
    long_p = _steps_run(side, admin, params, LONG_STEPS, proxy)
    per_step_rt = (long_p["round_trips_net"] - short_p["round_trips_net"]) / (extra * m)
    per_step_st = (long_p["statements_net"] - short_p["statements_net"]) / (extra * m)
    per_wf_rt_1 = short_p["round_trips_net"] / m
    return {
        "wall_ms_per_step": round(
            1000 * (long["median_body_s"] - short["median_body_s"]) / extra, 3
        ),
        "round_trips_per_step": round(per_step_rt, 2),
        "statements_per_step": round(per_step_st, 2),
        "round_trips_per_1_step_workflow": round(per_wf_rt_1, 2),
        "round_trips_per_3_step_workflow": round(per_wf_rt_1 + 2 * per_step_rt, 2),
        "median_body_ms_1_step": round(1000 * short["median_body_s"], 3),
        "median_body_ms_11_steps": round(1000 * long["median_body_s"], 3),
        "proxied_runs": [short_p, long_p],
    }


def wake_latency(side: Side, admin: str, params: Params) -> dict[str, Any]:
    """K workflows wait, each for its own event; events are sent one by one, `gap` apart."""
    k = params.events
    dsn = fresh_database(side, admin)
    client = side.open_client(dsn)
    workers = Workers.start(side, dsn, params.worker, 1)
    try:
        workers.wait_ready()
        ids = [client.start("wait", {"i": i}) for i in range(k)]
        wait_until(lambda: workers.waiters.value >= k, 120, f"{k} waiting workflows", workers)
        time.sleep(1.0)  # every wait is registered and the worker is idle
        send_ms = []
        for i in range(k):
            sent_at = time.time()
            client.send(i, sent_at)
            send_ms.append(1000 * (time.time() - sent_at))
            time.sleep(params.event_gap_ms / 1000)
        run_all_done(side, client, ids, workers, 120)
        reports = workers.finish()
    except BaseException:
        workers.abort()
        raise
    finally:
        client.close()
    latencies = [1000 * v for v in merged(reports, "latencies").values()]
    if len(latencies) != k:
        raise BenchError(f"{side.name}: {len(latencies)} of {k} waiting workflows woke")
    return {
        "events": k,
        "gap_ms": params.event_gap_ms,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "slowest_ms": [round(v, 1) for v in sorted(latencies)[-5:]],
        "send_call_p50_ms": round(percentile(send_ms, 50), 2),
    }


def recovery(side: Side, admin: str, params: Params) -> dict[str, Any]:
    """One workflow of N side-effect steps (each inserts a row, then sleeps); SIGKILL its worker
    while step KILL_AT_STEP sleeps, start a new worker at once, watch the rows."""
    n = params.recovery_steps
    dsn = fresh_database(side, admin)
    client = side.open_client(dsn)
    workers = Workers.start(side, dsn, params.worker, 1)
    try:
        ((pid_a, _),) = workers.wait_ready()
        wf_id = client.start("effects", {"i": 0, "n": n, "sleep": params.recovery_step_s})
        client.open_gate(params.worker.concurrency)
        workers.go.set(params.worker.concurrency)
        wait_until(
            lambda: any(s == KILL_AT_STEP for s, _, _ in read_effects(dsn, 0)),
            60,
            f"step {KILL_AT_STEP}",
            workers,
        )
        time.sleep(params.recovery_step_s / 4)
        t_kill = time.time()
        workers.children[0].process.kill()
        workers.children[0].process.join(5)
        replacement = workers.add()
        ((pid_b, b_started),) = workers.wait_ready([replacement])
        t_ready = time.time()
        wait_until(
            lambda: any(p == pid_b for _, p, _ in read_effects(dsn, 0)), 300, "resume", workers
        )
        t_done = wait_until(
            lambda: client.states([wf_id]).get(side.done_state, 0) == 1,
            300,
            "the recovered workflow",
            workers,
        )
        workers.finish()
    except BaseException:
        workers.abort()
        raise
    finally:
        client.close()
    rows = read_effects(dsn, 0)
    before = [(s, a) for s, p, a in rows if p == pid_a and a <= t_kill]
    killed_step = max(s for s, _ in before)
    runs = [sum(1 for s, _, _ in rows if s == j) for j in range(n)]
    if min(runs) < 1:
        raise BenchError(f"{side.name}: steps never ran after recovery: {runs}")
    resumed_at = min(a for _, p, a in rows if p == pid_b)
    return {
        "steps": n,
        "step_sleep_s": params.recovery_step_s,
        "killed_during_step": killed_step,
        "completed_steps_before_kill": killed_step,
        "completed_steps_rerun": sum(runs[j] - 1 for j in range(killed_step)),
        "interrupted_step_runs": runs[killed_step],
        "runs_per_step": runs,
        "new_process_ready_after_kill_s": round(t_ready - t_kill, 3),
        "resumed_after_kill_s": round(resumed_at - t_kill, 3),
        "resumed_after_process_start_s": round(resumed_at - b_started, 3),
        "done_after_kill_s": round(t_done - t_kill, 3),
    }


# --- driver ----------------------------------------------------------------------------------

SCENARIOS = ("throughput_1p", "throughput_2p", "step_cost", "wake_latency", "recovery")
KEY_FIGURES = {
    "throughput_1p": ("wf_per_s", "steady_wf_per_s"),
    "throughput_2p": ("wf_per_s", "steady_wf_per_s"),
    "step_cost": (
        "wall_ms_per_step",
        "round_trips_per_step",
        "statements_per_step",
        "round_trips_per_3_step_workflow",
    ),
    "wake_latency": ("p50_ms", "p99_ms"),
    "recovery": (
        "resumed_after_kill_s",
        "resumed_after_process_start_s",
        "new_process_ready_after_kill_s",
        "completed_steps_rerun",
        "interrupted_step_runs",
    ),
}
HIGHER_IS_BETTER = {"wf_per_s", "steady_wf_per_s"}


def run_scenario(
    name: str, side: Side, admin: str, params: Params, proxy: tuple[int, Any]
) -> dict[str, Any]:
    if name == "throughput_1p":
        return throughput(side, admin, params, 1)
    if name == "throughput_2p":
        return throughput(side, admin, params, 2)
    if name == "step_cost":
        return step_cost(side, admin, params, proxy)
    if name == "wake_latency":
        return wake_latency(side, admin, params)
    return recovery(side, admin, params)


def summarize(runs: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    medians: dict[str, dict[str, dict[str, float]]] = {}
    for system, by_scenario in runs.items():
        for scenario, results in by_scenario.items():
            for key in KEY_FIGURES[scenario]:
                values = [r[key] for r in results]
                if values:
                    medians.setdefault(scenario, {}).setdefault(key, {})[system] = (
                        statistics.median(values)
                    )
    ratios: dict[str, dict[str, float | None]] = {}
    for scenario, figures in medians.items():
        for key, by_system in figures.items():
            fm, db = by_system.get("fluffymail"), by_system.get("dbos")
            if fm is None or db is None or "rerun" in key or "runs" in key:
                continue
            # > 1 means FluffyMail is ahead, whichever way the figure points
            better = (
                (fm / db if db else None) if key in HIGHER_IS_BETTER else (db / fm if fm else None)
            )
            ratios.setdefault(scenario, {})[key] = round(better, 2) if better else None
    return {"medians": medians, "fluffymail_advantage": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", DEFAULT_DSN))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workflows", type=int, default=600)
    parser.add_argument("--step-workflows", type=int, default=40)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--event-gap-ms", type=float, default=30.0)
    parser.add_argument("--recovery-steps", type=int, default=10)
    parser.add_argument("--recovery-step-s", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--dbos-polling-s", type=float, default=0.05)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    scenarios = [s for s in args.scenarios.split(",") if s]
    params = Params(
        repeats=args.repeats,
        workflows=args.workflows,
        step_workflows=args.step_workflows,
        events=args.events,
        event_gap_ms=args.event_gap_ms,
        recovery_steps=args.recovery_steps,
        recovery_step_s=args.recovery_step_s,
        worker=WorkerConfig(concurrency=args.concurrency, dbos_polling_s=args.dbos_polling_s),
    )
    admin = args.dsn
    sides = {s: load_side(s) for s in systems}
    for side in sides.values():
        install_template(side, admin, params.worker)

    ctx = mp.get_context("spawn")
    counters = ctx.Array("q", 3, lock=False)
    host = urlsplit(admin).hostname or "127.0.0.1"
    proxy_child = spawn(proxy_main, host, urlsplit(admin).port or 5432, counters)
    proxy_port = proxy_child.expect("ready", 30)

    runs: dict[str, dict[str, list[dict[str, Any]]]] = {s: {} for s in systems}
    started = time.time()
    try:
        for repeat in range(params.repeats):
            order = systems if repeat % 2 == 0 else list(reversed(systems))
            for scenario in scenarios:
                for system in order:
                    log(f"repeat {repeat + 1}/{params.repeats} {scenario} {system}")
                    result = run_scenario(
                        scenario, sides[system], admin, params, (proxy_port, counters)
                    )
                    log(f"  {json.dumps({k: result.get(k) for k in KEY_FIGURES[scenario]})}")
                    runs[system].setdefault(scenario, []).append(result)
    finally:
        proxy_child.process.kill()
        for system in systems:
            drop(admin, f"fm_wfbench_{system}")
            drop(admin, template_name(system))

    report = {
        "bench": "workflow_bench",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "command": " ".join(["bench/workflow_bench.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_1m_at_end": os.getloadavg()[0],
            "note": "shared with other agents' work; figures are noisy",
        },
        "postgres": pg_settings(admin),
        "params": asdict(params),
        "systems": {s: sides[s].config(params.worker) for s in systems},
        **summarize(runs),
        "runs": runs,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
