"""Job kinds for the chaos suite, loaded by `fluffymail worker --jobs tests.chaos.app`.

Every execution is recorded in `chaos.execution` through a connection of its own, straight to
the server (not through the proxy the queue's connections use), before the handler's work and
again after it, so the harness sees executions the queue never heard of.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import psycopg

from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job
from fluffymail.queue.registry import Registry

QUEUE, STUBBORN = "chaos", "chaos-stubborn"
RECORD_SECONDS = 120.0  # a record keeps being retried this long (through server restarts)


class Recorder:
    """One direct connection, reconnected on failure; writes are serialised."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()

    async def write(self, query: str, params: tuple[Any, ...]) -> None:
        """Write, retrying through failures; a cancelled handler does not cut a record short
        (which would leave the shared connection mid-statement)."""
        await asyncio.shield(self._write(query, params))

    async def _write(self, query: str, params: tuple[Any, ...]) -> None:
        deadline = time.monotonic() + RECORD_SECONDS
        async with self._lock:
            while True:
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = await psycopg.AsyncConnection.connect(
                            self.url, autocommit=True, connect_timeout=3
                        )
                    await self._conn.execute(query, params)
                    return
                except (psycopg.Error, OSError):
                    if self._conn is not None:
                        await self._conn.close()
                    self._conn = None
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)


def build_registry(deps: JobDeps) -> Registry:
    recorder = Recorder(os.environ["CHAOS_RECORD_URL"])
    pid = os.getpid()

    async def started(job: Job) -> None:
        await recorder.write(
            "INSERT INTO chaos.execution (job_id, attempt, pid) VALUES (%s, %s, %s)",
            (job.id, job.attempt, pid),
        )

    async def work(job: Job) -> None:
        await started(job)
        await asyncio.sleep(job.data["ms"] / 1000)
        await recorder.write(
            "UPDATE chaos.execution SET ended_at = clock_timestamp()"
            " WHERE job_id = %s AND attempt = %s AND pid = %s",
            (job.id, job.attempt, pid),
        )

    async def stubborn(job: Job) -> None:
        await started(job)
        while True:  # ignores cancellation: only the shutdown deadline gets rid of it
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    registry = Registry()
    registry.register(QUEUE, work, concurrency=10, retry_limit=25)
    registry.register(STUBBORN, stubborn, concurrency=1, retry_limit=25)
    return registry
