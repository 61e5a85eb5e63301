"""FluffyMail adapter: fluffymail.queue.JobQueue on an autocommit psycopg pool, schema via db.migrate."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.db import migrate
from fluffymail.queue import JobQueue
from peers.common import QUEUE, BenchError, Payload, Recorder

POOL_MIN = 2
POOL_MAX = 12
BATCH_SIZE = 10
# How often a draining worker asks get_queue_depth whether anything is left. This only decides
# when the worker process exits; the harness times the burn-down with its own monitor.
DRAIN_POLL_S = 0.1
UNFINISHED = ("available", "deferred", "active")


async def _open_pool(dsn: str) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        dsn, kwargs={"autocommit": True}, open=False, min_size=POOL_MIN, max_size=POOL_MAX
    )
    await pool.open()
    return pool


async def _open_queue(dsn: str, *, start: bool = True) -> tuple[AsyncConnectionPool, JobQueue]:
    """A queue on its own pool; producers don't `start()` it (no listener, no maintenance),
    as a web process that only enqueues would not."""
    pool = await _open_pool(dsn)
    queue = JobQueue(pool)
    if start:
        await queue.start()
    await queue.create_queue(QUEUE)
    return pool, queue


async def _close(pool: AsyncConnectionPool, queue: JobQueue) -> None:
    try:
        await queue.stop(grace=5)
    finally:
        await pool.close()


@dataclass
class FmProducer:
    pool: AsyncConnectionPool
    queue: JobQueue

    async def send(self, payload: Payload) -> None:
        await self.queue.send(QUEUE, payload)

    async def insert_many(self, payloads: list[Payload]) -> None:
        await self.queue.insert(QUEUE, payloads)

    async def aclose(self) -> None:
        await _close(self.pool, self.queue)


@dataclass
class FmWorker:
    pool: AsyncConnectionPool
    queue: JobQueue
    recorder: Recorder
    concurrency: int
    stopped: bool = False

    async def _handler(self, job: Any) -> None:
        self.recorder.hit(job.data)

    async def start(self) -> None:
        """`work` starts the worker in the background and returns."""
        await self.queue.work(
            QUEUE, self._handler, concurrency=self.concurrency, batch_size=BATCH_SIZE
        )

    async def run_until_drained(self) -> None:
        """`work` has no drain mode: poll the queue's stats until nothing is waiting or running."""
        await self.start()
        while True:
            if await _unfinished(self.queue) == 0:
                break
            await asyncio.sleep(DRAIN_POLL_S)
        await self.stop()

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.queue.stop(grace=5)

    async def aclose(self) -> None:
        try:
            await self.stop()
        finally:
            await self.pool.close()


async def _unfinished(queue: JobQueue) -> int:
    depth = (await queue.get_queue_depth())[QUEUE]
    return sum(int(depth[part]) for part in UNFINISHED)


@dataclass
class FmMonitor:
    """Stats only: a JobQueue that is never started (no LISTEN connection, no maintenance loops)."""

    pool: AsyncConnectionPool
    queue: JobQueue

    async def remaining(self) -> int:
        return await _unfinished(self.queue)

    async def aclose(self) -> None:
        await self.pool.close()


class FmAdapter:
    name = "fluffymail"

    def config(self) -> dict[str, Any]:
        return {
            "pool": f"AsyncConnectionPool(autocommit, min_size={POOL_MIN}, max_size={POOL_MAX})",
            "worker": f"JobQueue.work(concurrency=N, batch_size={BATCH_SIZE}); drain = poll get_queue_depth every {DRAIN_POLL_S}s",
            "queue": "JobQueue(pool) defaults (poll_interval=1.0, listen=True); create_queue defaults",
            "bulk_api": "JobQueue.insert",
            "send_api": "JobQueue.send",
        }

    async def install(self, dsn: str) -> None:
        pool = await _open_pool(dsn)
        try:
            async with pool.connection() as conn:
                await migrate.upgrade(conn)
            queue = JobQueue(pool)
            await queue.start()
            try:
                await queue.create_queue(QUEUE)
            finally:
                await queue.stop(grace=5)
        finally:
            await pool.close()

    async def open_producer(self, dsn: str) -> FmProducer:
        pool, queue = await _open_queue(dsn, start=False)
        return FmProducer(pool=pool, queue=queue)

    async def open_worker(self, dsn: str, concurrency: int, recorder: Recorder) -> FmWorker:
        pool, queue = await _open_queue(dsn)
        return FmWorker(pool=pool, queue=queue, recorder=recorder, concurrency=concurrency)

    async def open_monitor(self, dsn: str) -> FmMonitor:
        pool = await _open_pool(dsn)
        return FmMonitor(pool=pool, queue=JobQueue(pool))

    async def verify(self, dsn: str, *, done: int, pending: int) -> dict[str, int]:
        monitor = await self.open_monitor(dsn)
        try:
            stats = await monitor.queue.get_queue_stats(QUEUE)  # verification only, once
        finally:
            await monitor.aclose()
        counts = {
            state: int(stats.get(state, 0))
            for state in ("created", "retry", "active", "completed", "cancelled", "failed")
        }
        ok = (
            counts["completed"] == done
            and counts["created"] + counts["retry"] == pending
            and counts["active"] == counts["cancelled"] == counts["failed"] == 0
        )
        if not ok:
            raise BenchError(f"fluffymail: expected done={done} pending={pending}, DB has {counts}")
        return counts


ADAPTER = FmAdapter()
