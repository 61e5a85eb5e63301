"""FluffyMail: the bench workflows on fluffymail.queue.workflows, a JobQueue on an autocommit pool."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.db import migrate
from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, Workflows
from wfpeers.common import EFFECTS_TABLE, Tally, WorkerConfig, create_effects_table, wait_any

POOL_MIN = 2
POOL_MAX = 12
NAMES = {"steps": "bench-steps", "wait": "bench-wait", "effects": "bench-effects"}
EVENT = "bench.go"
WAIT_CONCURRENCY = 10  # a waiting run holds no slot; this bounds runs executing at once


async def _open_pool(dsn: str) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        dsn, kwargs={"autocommit": True}, open=False, min_size=POOL_MIN, max_size=POOL_MAX
    )
    await pool.open()
    return pool


def define(wf: Workflows, pool: AsyncConnectionPool, tally: Tally) -> None:
    """The three bench workflows (the client defines them too: `start` checks the name)."""

    def noop() -> None:
        tally.step()

    async def effect(i: int, j: int, sleep_s: float) -> None:
        async with pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO {EFFECTS_TABLE} (wf, step, pid, at) VALUES (%s, %s, %s, %s)",
                (i, j, os.getpid(), time.time()),
            )
        tally.step()
        await asyncio.sleep(sleep_s)

    @wf.define(NAMES["steps"], version=1)
    async def steps(step: Step, args: dict[str, Any]) -> None:
        tally.enter(args["i"])
        for j in range(args["n"]):
            await step.run(f"s{j}", noop)
        tally.end(args["i"])

    @wf.define(NAMES["wait"], version=1)
    async def wait(step: Step, args: dict[str, Any]) -> None:
        i = args["i"]
        tally.enter(i)
        tally.wait_started(i)
        data = await step.wait_for_event("w", event=EVENT, match={"k": i}, timeout="1 day")
        tally.woke(i, float(data["t"]))
        tally.end(i)

    @wf.define(NAMES["effects"], version=1)
    async def effects(step: Step, args: dict[str, Any]) -> None:
        tally.enter(args["i"])
        for j in range(args["n"]):
            await step.run(f"e{j}", effect, args["i"], j, args["sleep"])
        tally.end(args["i"])


@dataclass
class FmClient:
    runner: asyncio.Runner
    pool: AsyncConnectionPool
    queue: JobQueue
    wf: Workflows

    def start(self, kind: str, args: dict[str, Any]) -> str:
        run_id = self.runner.run(self.wf.start(NAMES[kind], args))
        return str(run_id)

    def open_gate(self, concurrency: int) -> None:
        """Nothing to do in the database: a worker calls `wf.work` when the parent sets go."""

    def send(self, i: int, sent_at: float) -> None:
        self.runner.run(self.wf.send_event(EVENT, {"k": i, "t": sent_at}))

    def states(self, ids: list[str]) -> dict[str, int]:
        totals: dict[str, int] = {}
        stats = self.runner.run(self.queue.get_queue_stats())
        for name in NAMES.values():
            for state, count in stats.get(name, {}).items():
                totals[state] = totals.get(state, 0) + int(count)
        return totals

    def close(self) -> None:
        try:
            self.runner.run(self.pool.close())
        finally:
            self.runner.close()


async def _client(dsn: str) -> tuple[AsyncConnectionPool, JobQueue, Workflows]:
    pool = await _open_pool(dsn)
    queue = JobQueue(pool)  # never started: a process that only starts runs and sends events
    wf = Workflows(queue)
    define(wf, pool, Tally())
    await wf.setup()
    return pool, queue, wf


async def _serve(
    dsn: str, worker: WorkerConfig, tally: Tally, go: Any, stop: Any, ready: Any
) -> None:
    pool = await _open_pool(dsn)
    queue = JobQueue(pool)  # the product's defaults: poll 1 s, LISTEN/NOTIFY, rescue every 2.5 s
    try:
        await queue.start()
        wf = Workflows(queue)
        define(wf, pool, tally)
        await wf.work(NAMES["wait"], concurrency=WAIT_CONCURRENCY)
        ready()
        await asyncio.to_thread(wait_any, go, stop)
        if go.is_set():
            concurrency = go.value.value
            await wf.work(NAMES["steps"], concurrency=concurrency)
            await wf.work(NAMES["effects"], concurrency=concurrency)
        await asyncio.to_thread(stop.wait)
        await queue.stop(grace=2)
    finally:
        await pool.close()


class FmSide:
    name = "fluffymail"
    done_state = "completed"

    def config(self, worker: WorkerConfig) -> dict[str, Any]:
        return {
            "api": "fluffymail.queue.workflows: Workflows.define / Step.run / wf.start / wf.work",
            "pool": f"AsyncConnectionPool(autocommit, min_size={POOL_MIN}, max_size={POOL_MAX})",
            "queue": "JobQueue(pool) defaults (poll_interval=1.0, listen=True, rescue_interval=2.5, worker_dead_seconds=6)",
            "worker": f"wf.work(name, concurrency={worker.concurrency}) per process",
            "wake_primitive": "step.wait_for_event(match={'k': i}) in the run, wf.send_event from the client",
        }

    def install(self, dsn: str, worker: WorkerConfig) -> None:
        async def body() -> None:
            pool = await _open_pool(dsn)
            try:
                async with pool.connection() as conn:
                    await migrate.upgrade(conn)
                wf = Workflows(JobQueue(pool))
                define(wf, pool, Tally())
                await wf.setup()
            finally:
                await pool.close()

        asyncio.run(body())
        create_effects_table(dsn)

    def open_client(self, dsn: str) -> FmClient:
        runner = asyncio.Runner()
        pool, queue, wf = runner.run(_client(dsn))
        return FmClient(runner, pool, queue, wf)

    def serve(
        self, dsn: str, worker: WorkerConfig, tally: Tally, go: Any, stop: Any, ready: Any
    ) -> None:
        asyncio.run(_serve(dsn, worker, tally, go, stop, ready))


SIDE = FmSide()
