"""What each workflow system implements for the bench, and the worker-side tally the workflows write."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

# Workflow kinds every system defines (the same bodies, in each system's own API):
#   steps   {"i", "n"}: n no-op steps
#   wait    {"i"}: wait for the event/message addressed to i, then record its latency
#   effects {"i", "n", "sleep"}: n steps, each inserts a side-effect row, then sleeps
KINDS = ("steps", "wait", "effects")
EFFECTS_TABLE = "bench_side_effects"


@dataclass(frozen=True, slots=True)
class Flag:
    """A set-once flag in shared memory, read without locks: a worker SIGKILLed while waiting on
    a multiprocessing.Event leaves the Event's condition waiting for it, and `set()` hangs."""

    value: Any  # multiprocessing RawValue("i")

    def set(self, value: int = 1) -> None:
        """Set; `go` carries the workers' concurrency."""
        self.value.value = value

    def is_set(self) -> bool:
        return bool(self.value.value)

    def wait(self, poll_s: float = 0.01) -> None:
        wait_any(self, poll_s=poll_s)


def wait_any(*flags: Flag, poll_s: float = 0.005) -> None:
    """Block until one of the flags is set (polling shared memory)."""
    while not any(flag.value.value for flag in flags):
        time.sleep(poll_s)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How the worker processes run: concurrency for the bench queue, DBOS's polling interval."""

    concurrency: int
    dbos_polling_s: float


@dataclass
class Tally:
    """In-process record of what the workflow bodies did; sent to the parent when the worker stops.

    Thread-safe (DBOS runs workflows in threads). `first_entry` keeps the first time a body was
    entered for a workflow (a replaying engine enters it again), `ended` the time it returned."""

    steps_run: int = 0
    first_entry: dict[int, float] = field(default_factory=dict)
    ended: dict[int, float] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)
    latencies: dict[int, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: Any = None  # multiprocessing Values the parent reads, shared by all processes:
    waiters: Any = None  # bodies ended, and `wait` workflows that reached their wait

    def enter(self, i: int) -> None:
        now = time.time()
        with self.lock:
            self.first_entry.setdefault(i, now)

    def step(self) -> None:
        with self.lock:
            self.steps_run += 1

    def end(self, i: int) -> None:
        now = time.time()
        with self.lock:
            self.ended[i] = now
        if self.counter is not None:
            with self.counter.get_lock():
                self.counter.value += 1

    def wait_started(self, i: int) -> None:
        with self.lock:
            first = i not in self.waiting
            self.waiting.add(i)
        if first and self.waiters is not None:
            with self.waiters.get_lock():
                self.waiters.value += 1

    def woke(self, i: int, sent_at: float) -> None:
        now = time.time()
        with self.lock:
            self.latencies.setdefault(i, now - sent_at)

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {
                "steps_run": self.steps_run,
                "first_entry": dict(self.first_entry),
                "ended": dict(self.ended),
                "waiting": sorted(self.waiting),
                "latencies": dict(self.latencies),
            }


def create_effects_table(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {EFFECTS_TABLE} ("
            " wf int NOT NULL, step int NOT NULL, pid int NOT NULL, at double precision NOT NULL)"
        )


def read_effects(dsn: str, wf: int) -> list[tuple[int, int, float]]:
    """(step, pid, at) rows of one workflow's side effects, in insertion order."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT step, pid, at FROM {EFFECTS_TABLE} WHERE wf = %s ORDER BY at", (wf,)
        ).fetchall()
    return [(int(s), int(p), float(a)) for s, p, a in rows]


class Client(Protocol):
    """The parent's handle on one system: start workflows, send events, read their states."""

    def start(self, kind: str, args: dict[str, Any]) -> str:
        """Start (enqueue) one workflow of `kind`; return its id."""

    def open_gate(self, concurrency: int) -> None:
        """Let the workers take the `steps`/`effects` workflows started so far (at most
        `concurrency` at a time in each process); the parent sets `go` at the same moment."""

    def send(self, i: int, sent_at: float) -> None:
        """Send the event/message that wakes the `wait` workflow number i."""

    def states(self, ids: list[str]) -> dict[str, int]:
        """Count the workflows by their state as the system stores it."""

    def close(self) -> None: ...


class Side(Protocol):
    """A durable-workflow system: schema install (parent), client (parent), worker (child)."""

    name: str
    done_state: str

    def config(self, worker: WorkerConfig) -> dict[str, Any]:
        """How the system is configured for the bench (recorded in the JSON)."""

    def install(self, dsn: str, worker: WorkerConfig) -> None:
        """Create the system's schema (and queues) in a freshly created database."""

    def open_client(self, dsn: str) -> Client: ...

    def serve(
        self, dsn: str, worker: WorkerConfig, tally: Tally, go: Any, stop: Any, ready: Any
    ) -> None:
        """In a worker process: run workflows until `stop` (an Event) is set; call ready() once
        the worker runs; `wait` workflows run at once, the others once the gate opens (`go`)."""
