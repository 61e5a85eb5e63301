"""Procrastinate adapter: App + PsycopgConnector pool, schema via schema_manager, async no-op task."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import procrastinate
import psycopg

from peers.common import QUEUE, BenchError, Payload, Recorder

POOL_MIN = 2
POOL_MAX = 12  # concurrency 10 + headroom; the listener uses its own standalone connection
TASK_NAME = "bench_noop"


def _make_app(dsn: str, recorder: Recorder | None) -> tuple[procrastinate.App, Any]:
    connector = procrastinate.PsycopgConnector(conninfo=dsn, min_size=POOL_MIN, max_size=POOL_MAX)
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK_NAME, queue=QUEUE)
    async def noop(**payload: Any) -> None:
        if recorder is not None:
            recorder.hit(payload)

    return app, noop


@dataclass
class ProcProducer:
    app: procrastinate.App
    task: Any

    async def send(self, payload: Payload) -> None:
        await self.task.defer_async(**payload)

    async def insert_many(self, payloads: list[Payload]) -> None:
        await self.task.batch_defer_async(*payloads)

    async def aclose(self) -> None:
        await self.app.close_async()


@dataclass
class ProcWorker:
    app: procrastinate.App
    concurrency: int
    task: asyncio.Task[None] | None = field(default=None)

    def _options(self, *, wait: bool) -> dict[str, Any]:
        return {
            "queues": [QUEUE],
            "concurrency": self.concurrency,
            "wait": wait,
            "listen_notify": True,
            "install_signal_handlers": False,
        }

    async def run_until_drained(self) -> None:
        await self.app.run_worker_async(**self._options(wait=False))

    async def start(self) -> None:
        self.task = asyncio.create_task(self.app.run_worker_async(**self._options(wait=True)))

    async def stop(self) -> None:
        if self.task is None:
            return
        self.task.cancel()  # documented way to stop run_worker_async: graceful shutdown
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=30)

    async def aclose(self) -> None:
        await self.app.close_async()


@dataclass
class ProcMonitor:
    conn: psycopg.AsyncConnection

    async def remaining(self) -> int:
        row = await (
            await self.conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            )
        ).fetchone()
        return int(row[0]) if row else 0

    async def aclose(self) -> None:
        await self.conn.close()


class ProcAdapter:
    name = "procrastinate"

    def config(self) -> dict[str, Any]:
        return {
            "version": version("procrastinate"),
            "connector": f"PsycopgConnector(AsyncConnectionPool min_size={POOL_MIN}, max_size={POOL_MAX})",
            "worker": "App.run_worker_async(concurrency=N, wait=False for burn-down, listen_notify=True)",
            "task": "async no-op, default retry (none), delete_jobs=never (default)",
            "fetch": "procrastinate_fetch_job_v2: one job per fetch (no batch dequeue in procrastinate)",
            "bulk_api": "Task.batch_defer_async",
            "send_api": "Task.defer_async",
        }

    async def install(self, dsn: str) -> None:
        app, _ = _make_app(dsn, None)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()

    async def open_producer(self, dsn: str) -> ProcProducer:
        app, task = _make_app(dsn, None)
        await app.open_async()
        return ProcProducer(app=app, task=task)

    async def open_worker(self, dsn: str, concurrency: int, recorder: Recorder) -> ProcWorker:
        app, _ = _make_app(dsn, recorder)
        await app.open_async()
        return ProcWorker(app=app, concurrency=concurrency)

    async def open_monitor(self, dsn: str) -> ProcMonitor:
        return ProcMonitor(await psycopg.AsyncConnection.connect(dsn, autocommit=True))

    async def verify(self, dsn: str, *, done: int, pending: int) -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            jobs = await (
                await conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'succeeded'),"
                    " count(*) FILTER (WHERE status = 'todo'),"
                    " count(*) FILTER (WHERE status NOT IN ('succeeded', 'todo')),"
                    " coalesce(max(attempts), 0) FROM procrastinate_jobs"
                )
            ).fetchone()
            events = await (
                await conn.execute(
                    "SELECT count(*), count(DISTINCT job_id) FROM procrastinate_events WHERE type = 'started'"
                )
            ).fetchone()
        assert jobs is not None and events is not None
        counts = {
            "succeeded": jobs[0],
            "todo": jobs[1],
            "other": jobs[2],
            "max_attempts": jobs[3],
            "started_events": events[0],
            "started_distinct_jobs": events[1],
        }
        ok = (
            counts["succeeded"] == done
            and counts["todo"] == pending
            and counts["other"] == 0
            and counts["started_events"] == done
            and counts["started_distinct_jobs"] == done
        )
        if not ok:
            raise BenchError(
                f"procrastinate: expected done={done} pending={pending}, DB has {counts}"
            )
        return counts


ADAPTER = ProcAdapter()
