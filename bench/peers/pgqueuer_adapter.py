"""PgQueuer adapter: QueueManager on one connection (asyncpg driver if installed, else psycopg),
schema via Queries.install (what `pgq install` runs)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pgqueuer
import psycopg
from pgqueuer import Job, QueueManager
from pgqueuer.queries import Queries
from pgqueuer.types import QueueExecutionMode
from psycopg.conninfo import conninfo_to_dict

from peers.common import QUEUE, BenchError, Payload, Recorder

try:
    import asyncpg
except ImportError:  # not a dependency of the bench extra; psycopg is the fallback
    asyncpg = None

BATCH_SIZE = 10  # QueueManager.run's default batch_size
DRIVER = "asyncpg" if asyncpg is not None else "psycopg"

Closer = Callable[[], Awaitable[None]]
PSYCOPG_NOTE = (
    "PsycopgDriver runs every query and the NOTIFY watcher on one connection; the watcher holds "
    "the connection lock inside notifies(timeout=1.0), so a query can wait up to 1 s when no "
    "NOTIFY arrives (visible in idle p99 latency and in drain exit). PgQueuer's docs lead with asyncpg."
)


async def _connect(dsn: str) -> tuple[Queries, Closer]:
    """One connection wrapped in PgQueuer's driver, as its docs set it up."""
    if asyncpg is not None:
        params = conninfo_to_dict(dsn)
        conn = await asyncpg.connect(
            host=params.get("host"),
            port=int(params.get("port") or 5432),
            user=params.get("user"),
            password=params.get("password"),
            database=params.get("dbname"),
        )
        return Queries.from_asyncpg_connection(conn), conn.close
    pconn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    return Queries.from_psycopg_connection(pconn), pconn.close


def _encode(payload: Payload) -> bytes:
    return json.dumps(payload).encode()


@dataclass
class PgqProducer:
    queries: Queries
    close: Closer

    async def send(self, payload: Payload) -> None:
        await self.queries.enqueue(QUEUE, _encode(payload))

    async def insert_many(self, payloads: list[Payload]) -> None:
        n = len(payloads)
        await self.queries.enqueue([QUEUE] * n, [_encode(p) for p in payloads], [0] * n)

    async def aclose(self) -> None:
        await self.close()


@dataclass
class PgqWorker:
    qm: QueueManager
    close: Closer
    concurrency: int
    task: asyncio.Task[None] | None = field(default=None)

    def _max_concurrent_tasks(self) -> int | None:
        # PgQueuer's own default is unbounded (None); a cap must be >= 2 * batch_size.
        return None

    async def run_until_drained(self) -> None:
        await self.qm.run(
            batch_size=BATCH_SIZE,
            mode=QueueExecutionMode.drain,
            max_concurrent_tasks=self._max_concurrent_tasks(),
        )

    async def start(self) -> None:
        self.task = asyncio.create_task(
            self.qm.run(batch_size=BATCH_SIZE, max_concurrent_tasks=self._max_concurrent_tasks())
        )

    async def stop(self) -> None:
        self.qm.shutdown.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=30)

    async def aclose(self) -> None:
        await self.close()


@dataclass
class PgqMonitor:
    conn: psycopg.AsyncConnection

    async def remaining(self) -> int:
        row = await (await self.conn.execute("SELECT count(*) FROM pgqueuer")).fetchone()
        return int(row[0]) if row else 0

    async def aclose(self) -> None:
        await self.conn.close()


class PgqAdapter:
    name = "pgqueuer"

    def config(self) -> dict[str, Any]:
        return {
            "version": pgqueuer.__version__,
            "driver": (
                "AsyncpgDriver (one asyncpg connection per worker/producer)"
                if DRIVER == "asyncpg"
                else "PsycopgDriver (one autocommit psycopg connection per worker/producer; asyncpg not installed)"
            ),
            "worker": "QueueManager.run(mode=drain|continuous)",
            "batch_size": BATCH_SIZE,
            "max_concurrent_tasks": "None (PgQueuer default: unbounded; it rejects caps < 2*batch_size)",
            "durability": "durable (default: all tables LOGGED)",
            "notify": "table trigger -> LISTEN ch_pgqueuer",
            "bulk_api": "Queries.enqueue(list, list, list)",
            "send_api": "Queries.enqueue(entrypoint, payload)",
            "note": PSYCOPG_NOTE if DRIVER == "psycopg" else None,
        }

    async def install(self, dsn: str) -> None:
        queries, close = await _connect(dsn)
        try:
            await queries.install()
        finally:
            await close()

    async def open_producer(self, dsn: str) -> PgqProducer:
        queries, close = await _connect(dsn)
        return PgqProducer(queries=queries, close=close)

    async def open_worker(self, dsn: str, concurrency: int, recorder: Recorder) -> PgqWorker:
        queries, close = await _connect(dsn)
        qm = QueueManager(queries)

        @qm.entrypoint(QUEUE)
        async def noop(job: Job) -> None:
            recorder.hit(json.loads(job.payload or b"{}"))

        return PgqWorker(qm=qm, close=close, concurrency=concurrency)

    async def open_monitor(self, dsn: str) -> PgqMonitor:
        """Unfinished = rows still in the queue table (finished jobs are moved to the log)."""
        return PgqMonitor(await psycopg.AsyncConnection.connect(dsn, autocommit=True))

    async def verify(self, dsn: str, *, done: int, pending: int) -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            queue = await (
                await conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'queued'),"
                    " count(*) FILTER (WHERE status <> 'queued') FROM pgqueuer"
                )
            ).fetchone()
            log = await (
                await conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'successful'),"
                    " count(DISTINCT job_id) FILTER (WHERE status = 'successful'),"
                    " count(*) FILTER (WHERE status IN ('exception', 'failed', 'canceled'))"
                    " FROM pgqueuer_log"
                )
            ).fetchone()
        assert queue is not None and log is not None
        counts = {
            "queued": queue[0],
            "in_queue_not_queued": queue[1],
            "successful_log_rows": log[0],
            "successful_distinct_jobs": log[1],
            "errored": log[2],
        }
        ok = (
            counts["queued"] == pending
            and counts["in_queue_not_queued"] == 0
            and counts["successful_log_rows"] == done
            and counts["successful_distinct_jobs"] == done
            and counts["errored"] == 0
        )
        if not ok:
            raise BenchError(f"pgqueuer: expected done={done} pending={pending}, DB has {counts}")
        return counts


ADAPTER = PgqAdapter()
