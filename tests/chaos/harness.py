"""The chaos run: jobs into a scratch server, worker processes behind a black-hole proxy, faults
on a schedule (SIGKILL, SIGTERM, server restarts, a black hole), then a drain and the report.

Every execution is recorded by the handlers (tests/chaos/app.py) and every state change of a
job by a trigger; `report.py` turns them into the figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from fluffymail.db import migrate
from fluffymail.db.pool import open_pool
from fluffymail.queue import JobQueue
from tests.blackhole import ProxyThread
from tests.chaos.app import QUEUE, STUBBORN
from tests.chaos.cluster import Cluster

REPO = Path(__file__).resolve().parents[2]
DBNAME = "chaos"
RECORDING = """
CREATE SCHEMA chaos;
CREATE TABLE chaos.execution (
    job_id bigint, attempt integer, pid integer,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(), ended_at timestamptz);
CREATE TABLE chaos.transition (
    job_id bigint, attempt integer, old_state text, new_state text, worker text,
    at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION chaos.log_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chaos.transition (job_id, attempt, old_state, new_state, worker)
    VALUES (NEW.id, NEW.attempt, OLD.state, NEW.state, NEW.worker);
    RETURN NULL;
END $$;
CREATE TRIGGER chaos_transition AFTER UPDATE OF state ON queue.job FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION chaos.log_transition();
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What to run and which faults to inject when (seconds from the start of the workers)."""

    jobs: int = 50_000
    workers: int = 4
    concurrency: int = 10
    kills: tuple[float, ...] = tuple(5.0 + 10 * k for k in range(17))  # SIGKILL every 10 s
    sigterms: tuple[float, ...] = (22.0,)  # graceful stops mid-load
    restarts: tuple[tuple[float, str], ...] = ((33.0, "fast"), (63.0, "immediate"))
    blackhole_at: float | None = 92.0
    blackhole_seconds: float = 45.0
    sigterm_in_blackhole: float | None = 5.0  # SIGTERM a worker this long into the black hole
    stubborn_check: bool = True  # SIGTERM a worker whose handler ignores cancellation
    grace: float = 5.0
    drain_timeout: float = 240.0
    short_ms: tuple[int, int] = (2, 10)
    long_ms: tuple[int, int] = (200, 500)
    long_share: float = 0.3
    seed: int = 16


@dataclass(slots=True)
class Fault:
    kind: str  # sigkill | sigterm | restart | blackhole | reset
    at: float  # time.time() when injected
    end: float | None = None  # restart done / heal (time.time())
    pid: int | None = None
    detail: str = ""


@dataclass(slots=True)
class Shutdown:
    case: str
    pid: int
    grace: float
    signalled: float
    exited: float | None = None
    code: int | None = None


@dataclass(slots=True)
class Log:
    faults: list[Fault] = field(default_factory=list)
    shutdowns: list[Shutdown] = field(default_factory=list)
    started: float = 0.0
    drained: float | None = None
    worker_logs: list[Path] = field(default_factory=list)
    exits: list[dict[str, Any]] = field(default_factory=list)  # workers that left on their own


class Fleet:
    """Worker processes (`fluffymail worker`) of the chaos registry."""

    def __init__(self, queue_url: str, record_url: str, logs: Path, grace: float) -> None:
        self.queue_url, self.record_url, self.logs, self.grace = queue_url, record_url, logs, grace
        self.procs: list[subprocess.Popen[bytes]] = []
        self.files: list[Path] = []

    def start(self, queues: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": self.queue_url,
            "CHAOS_RECORD_URL": self.record_url,
            "PYTHONPATH": str(REPO),
            "FLUFFYMAIL_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "FLUFFYMAIL_LOG_LEVEL": "WARNING",
            "FLUFFYMAIL_MIGRATE_ON_START": "false",
            "FLUFFYMAIL_SHUTDOWN_GRACE": str(self.grace),
        }
        path = self.logs / f"worker-{len(self.files)}.log"
        with path.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "fluffymail", "worker", "--jobs",
                 "tests.chaos.app:build_registry", "--queues", queues],
                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.procs.append(proc)
        self.files.append(path)
        return proc

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [proc for proc in self.procs if proc.poll() is None]

    def kill_all(self) -> None:
        for proc in self.alive():
            proc.kill()
            proc.wait()


def setup(url: str, plan: Plan) -> None:
    """Migrate, add the recording tables and trigger, create the queues and send the jobs."""

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate.upgrade(conn)
            await conn.execute(RECORDING)
        pool = await open_pool(url, min_size=1, max_size=2)
        try:
            queue = JobQueue(pool, listen=False)
            await queue.create_queue(QUEUE, retry_limit=25)
            await queue.create_queue(STUBBORN, retry_limit=25)
            rng = random.Random(plan.seed)
            for start in range(0, plan.jobs, 5000):
                batch = [{"ms": _duration(rng, plan)} for _ in range(min(5000, plan.jobs - start))]
                await queue.insert(QUEUE, batch)
        finally:
            await pool.close()

    asyncio.run(run())


def _duration(rng: random.Random, plan: Plan) -> int:
    low, high = plan.long_ms if rng.random() < plan.long_share else plan.short_ms
    return rng.randint(low, high)


def unfinished(url: str) -> int:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM queue.job WHERE name = %s AND state < 'completed'", (QUEUE,)
        ).fetchone()
    return int(row[0]) if row else -1


class Run:
    """Drives one chaos run; `execute()` returns the log of what was injected and observed."""

    def __init__(self, cluster: Cluster, plan: Plan, say: Any = print) -> None:
        self.cluster, self.plan, self.say = cluster, plan, say
        self.url = cluster.url(DBNAME)
        self.log = Log()
        self.rng = random.Random(plan.seed)
        self.proxy: ProxyThread | None = None
        self.fleet: Fleet | None = None
        self._blackholed = False
        self._hole_ready: set[int] = set()  # workers registered when the black hole began
        self._workers: list[subprocess.Popen[bytes]] = []

    def execute(self) -> Log:
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DBNAME}")
        setup(self.url, self.plan)
        self.proxy = ProxyThread(self.url)
        self.fleet = Fleet(self.proxy.url, self.url, self.cluster.root, self.plan.grace)
        try:
            self._faults()
            self._drain()
            if self.plan.stubborn_check:
                self._stubborn()
            self._stop_all()
        finally:
            self.fleet.kill_all()
            self.proxy.close()
            self.log.worker_logs = self._keep(self.fleet.files)
        return self.log

    def _keep(self, files: list[Path]) -> list[Path]:
        """Copy the worker logs out of the scratch directory when CHAOS_KEEP_LOGS names one."""
        keep = os.environ.get("CHAOS_KEEP_LOGS")
        if not keep:
            return list(files)
        target = Path(keep)
        target.mkdir(parents=True, exist_ok=True)
        kept = []
        for path in files:
            kept.append(target / path.name)
            shutil.copy(path, kept[-1])
        return kept

    # -- the fault schedule --------------------------------------------------------------------

    def _faults(self) -> None:
        plan, fleet = self.plan, self.fleet
        assert fleet is not None
        workers = self._workers = [
            fleet.start(f"{QUEUE}:{plan.concurrency}") for _ in range(plan.workers)
        ]
        self._wait_registered(workers, 120)
        self.log.started = start = time.time()  # the clock starts once every worker is up
        events: list[tuple[float, str, Any]] = [(t, "sigkill", None) for t in plan.kills]
        events += [(t, "sigterm", None) for t in plan.sigterms]
        events += [(t, "restart", mode) for t, mode in plan.restarts]
        if plan.blackhole_at is not None:
            events.append((plan.blackhole_at, "blackhole", None))
            events.append((plan.blackhole_at + plan.blackhole_seconds, "heal", None))
            if plan.sigterm_in_blackhole is not None:
                events.append(
                    (plan.blackhole_at + plan.sigterm_in_blackhole, "sigterm-blackhole", None)
                )
        events.sort(key=lambda e: e[0])
        replace_after_heal = 0
        for at, kind, arg in events:
            hole = next((f for f in reversed(self.log.faults) if f.kind == "blackhole"), None)
            if kind == "heal" and hole is not None:  # the planned length, whatever the drift
                self._sleep_until(hole.at + plan.blackhole_seconds)
            else:
                self._sleep_until(start + at)
            if kind in ("sigkill", "sigterm", "sigterm-blackhole"):
                victim = self._victim(workers)
                workers.remove(victim)
                if kind == "sigkill":
                    victim.kill()
                    self.log.faults.append(Fault(kind="sigkill", at=time.time(), pid=victim.pid))
                else:
                    self._sigterm(victim, "blackholed database" if "blackhole" in kind else "load")
                    self.say(
                        f"sigterm {victim.pid} -> {fleet.files[fleet.procs.index(victim)].name}"
                    )
                if self._blackholed and kind == "sigterm-blackhole":
                    replace_after_heal += 1
                else:
                    workers.append(fleet.start(f"{QUEUE}:{plan.concurrency}"))
                self.say(f"{at:6.1f}s {kind} pid {victim.pid}")
            elif kind == "restart":
                fault = Fault(kind="restart", at=time.time(), detail=arg)
                self.cluster.restart(arg)
                fault.end = time.time()
                self.log.faults.append(fault)
                self.say(f"{at:6.1f}s restart -m {arg} ({fault.end - fault.at:.1f} s)")
            elif kind == "blackhole":
                assert self.proxy is not None
                self._hole_ready = self._ready_for_hole(workers)
                self.proxy.black_hole()
                self._blackholed = True
                self.log.faults.append(Fault(kind="blackhole", at=time.time()))
                self.say(f"{at:6.1f}s black hole")
            elif kind == "heal":
                assert self.proxy is not None
                self.proxy.heal()
                self._blackholed = False
                assert hole is not None
                hole.end = time.time()
                for _ in range(replace_after_heal):
                    workers.append(fleet.start(f"{QUEUE}:{plan.concurrency}"))
                replace_after_heal = 0
                self.say(f"{at:6.1f}s heal")
            self._reap()

    def _victim(self, workers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        """A random live worker, preferring those that registered (so hold jobs and handle
        SIGTERM); waits up to 10 s for one. In the black hole nobody registers: one of those
        registered when it began (a worker still starting has no SIGTERM handler yet)."""
        deadline = time.time() + (0 if self._blackholed else 10)
        while True:
            alive = [p for p in workers if p.poll() is None]
            pids = self._hole_ready if self._blackholed else self._registered()
            ready = [p for p in alive if p.pid in pids]
            if ready or time.time() > deadline:
                return self.rng.choice(ready or alive)
            time.sleep(0.2)

    def _ready_for_hole(self, workers: list[subprocess.Popen[bytes]]) -> set[int]:
        """The live workers registered now, waiting up to 60 s for one (on a loaded machine a
        replacement takes seconds to start), so the black hole has a worker to SIGTERM."""
        deadline = time.time() + 60
        while True:
            ready = {p.pid for p in workers if p.poll() is None} & self._registered()
            if ready or time.time() > deadline:
                return ready
            time.sleep(0.2)

    def _registered(self) -> set[int]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            return {row[0] for row in conn.execute("SELECT pid FROM queue.worker")}

    def _wait_registered(self, procs: list[subprocess.Popen[bytes]], seconds: float) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline and not {p.pid for p in procs} <= self._registered():
            time.sleep(0.2)

    def _sigterm(self, proc: subprocess.Popen[bytes], case: str) -> None:
        proc.send_signal(signal.SIGTERM)
        now = time.time()
        self.log.faults.append(Fault(kind="sigterm", at=now, pid=proc.pid, detail=case))
        shutdown = Shutdown(case=case, pid=proc.pid, grace=self.plan.grace, signalled=now)
        self.log.shutdowns.append(shutdown)

        def wait() -> None:  # the exit time to the millisecond, whatever the schedule is doing
            code = proc.wait()
            shutdown.exited, shutdown.code = time.time(), code

        threading.Thread(target=wait, daemon=True).start()

    def _reap(self) -> None:
        """Shutdown exits are recorded by their waiter threads; nothing to do here."""

    def _sleep_until(self, when: float) -> None:
        while (left := when - time.time()) > 0:
            self._reap()
            self._replace_exited()
            time.sleep(min(left, 0.1))

    def _replace_exited(self) -> None:
        """A worker that left on its own (e.g. it could not open its pool within 30 s during a
        black hole) is recorded and replaced, as a supervisor would."""
        signalled = {f.pid for f in self.log.faults if f.pid is not None}
        for index, proc in enumerate(self._workers):
            if proc.poll() is not None and proc.pid not in signalled:
                self.log.exits.append({"pid": proc.pid, "code": proc.returncode,
                                       "at": round(time.time() - self.log.started, 1)})  # fmt: skip
                assert self.fleet is not None
                self._workers[index] = self.fleet.start(f"{QUEUE}:{self.plan.concurrency}")
                self.say(f"worker {proc.pid} exited on its own ({proc.returncode}); replaced")

    # -- drain, the stubborn handler, the final stop -------------------------------------------

    def _drain(self) -> None:
        deadline = time.time() + self.plan.drain_timeout
        while time.time() < deadline:
            self._reap()
            self._replace_exited()
            try:
                if unfinished(self.url) == 0:
                    self.log.drained = time.time()
                    self.say(f"drained at {self.log.drained - self.log.started:.1f}s")
                    return
            except psycopg.Error:
                pass
            time.sleep(0.5)
        self.say("drain timed out")

    def _stubborn(self) -> None:
        assert self.fleet is not None
        proc = self.fleet.start(f"{STUBBORN}:1")
        self._wait_registered([proc], 60)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO queue.job (name, data, retry_limit, retry_delay, retry_backoff,"
                " expire_seconds, heartbeat_seconds, retention_seconds)"
                " VALUES (%s, '{}', 25, 0, false, 900, 30, 3600)",
                (STUBBORN,),
            )
            deadline = time.time() + 60
            while time.time() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM chaos.execution e JOIN queue.job j ON j.id = e.job_id"
                    " WHERE j.name = %s",
                    (STUBBORN,),
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.2)
        self._sigterm(proc, "handler ignores cancellation")
        self._wait_exits(60)

    def _stop_all(self) -> None:
        assert self.fleet is not None
        for proc in self.fleet.alive():
            self._sigterm(proc, "idle")
        self._wait_exits(60)

    def _wait_exits(self, seconds: float) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline and any(s.exited is None for s in self.log.shutdowns):
            self._reap()
            time.sleep(0.05)
