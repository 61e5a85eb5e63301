"""Job kinds for acceptance tests, loaded by `fluffymail worker --jobs tests.acceptance.app`."""

from __future__ import annotations

import asyncio
import os

from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job
from fluffymail.queue.registry import Registry

EFFECTS = "CREATE TABLE IF NOT EXISTS acc_effect (job_id bigint, attempt int, pid int)"


def build_registry(deps: JobDeps) -> Registry:
    async def record(job: Job) -> None:
        async with deps.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO acc_effect VALUES (%s, %s, %s)", (job.id, job.attempt, os.getpid())
            )

    async def noop(job: Job) -> None:
        await record(job)

    async def slow(job: Job) -> None:
        if job.attempt == 1:
            await asyncio.sleep(job.data["sleep"])
        await record(job)

    async def once(job: Job) -> None:
        await record(job)
        await asyncio.sleep(job.data["sleep"])

    async def stubborn(job: Job) -> None:
        while True:  # ignores cancellation: only the shutdown deadline gets rid of it
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    registry = Registry()
    registry.register("acc-noop", noop, concurrency=10)
    registry.register("acc-slow", slow, concurrency=5, heartbeat_seconds=2, retry_limit=3)
    registry.register("acc-cron", noop, concurrency=2)
    registry.register("acc-stubborn", stubborn, concurrency=1)
    registry.register("acc-once", once, concurrency=2, retry_limit=0)
    return registry
