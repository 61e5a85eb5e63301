"""The interface every queue adapter implements, and the handler-side job recorder they share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Payload = dict[str, Any]
QUEUE = "bench"


class BenchError(RuntimeError):
    """A scenario's outcome is wrong (lost or duplicated jobs, timeouts); never swallowed silently."""


@dataclass
class Recorder:
    """Counts handler invocations in one process; for latency, stores start - send (seconds)."""

    target: int | None = None
    count: int = 0
    seen: set[int] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def hit(self, data: Mapping[str, Any]) -> None:
        now = time.time()
        sent = data.get("t")
        if sent is not None:
            self.latencies.append(now - float(sent))
        self.count += 1
        self.seen.add(int(data["i"]))
        if self.target is not None and self.count >= self.target:
            self.done.set()


class Producer(Protocol):
    """Client-side enqueueing through the system's public API."""

    async def send(self, payload: Payload) -> None:
        """Enqueue one job in its own transaction."""

    async def insert_many(self, payloads: list[Payload]) -> None:
        """Enqueue a batch of jobs with the system's bulk API."""

    async def aclose(self) -> None: ...


class Worker(Protocol):
    """One worker (one process's worth of concurrency) of the system under test."""

    async def run_until_drained(self) -> None:
        """Process jobs until the queue has nothing left to start, then return."""

    async def start(self) -> None:
        """Start processing in the background (continuous mode)."""

    async def stop(self) -> None:
        """Stop a worker started with `start`."""

    async def aclose(self) -> None: ...


class Monitor(Protocol):
    """A separate client the harness polls to see when a burn-down has finished in the DB."""

    async def remaining(self) -> int:
        """Jobs not yet recorded as finished (waiting or in flight)."""

    async def aclose(self) -> None: ...


class Adapter(Protocol):
    """A queue system: schema install, producer, worker and DB-side verification."""

    name: str

    def config(self) -> dict[str, Any]:
        """How the system is configured for the bench (recorded in the JSON)."""

    async def install(self, dsn: str) -> None:
        """Create the system's schema in a freshly created, empty database."""

    async def open_producer(self, dsn: str) -> Producer: ...

    async def open_worker(self, dsn: str, concurrency: int, recorder: Recorder) -> Worker:
        """Connect and register the no-op handler, without processing anything yet."""

    async def open_monitor(self, dsn: str) -> Monitor: ...

    async def verify(self, dsn: str, *, done: int, pending: int) -> dict[str, int]:
        """Count job states in the DB; raise BenchError unless exactly `done` succeeded once
        and `pending` are still waiting, with nothing failed or in flight."""
