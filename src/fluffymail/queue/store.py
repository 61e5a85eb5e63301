"""The only module that executes queue SQL; everything else calls these functions.

Statements live in `sql/*.sql`, loaded once. Each function is one round trip. The store also
keeps what the watchdog needs: when a statement last succeeded, and which pool connections its
statements are using now (to sever them when the database stops answering).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.db.pool import sever
from fluffymail.db.sql import load_sql
from fluffymail.queue import validate
from fluffymail.queue.errors import InvalidOptionError, UnknownQueueError
from fluffymail.queue.job import Job, Lease
from fluffymail.queue.options import QueueOptions

SQL = load_sql("fluffymail.queue")
MAX_CLAIM = 1000  # most jobs one fetch_jobs call claims (a constant in that statement)
Conn = psycopg.AsyncConnection[Any]
SEND_PARAMS: dict[str, Any] = dict.fromkeys(
    (
        "priority",
        "start_at",
        "start_in",
        "singleton_key",
        "singleton_seconds",
        "group_key",
        "retry_limit",
        "retry_delay",
        "retry_backoff",
        "retry_delay_max",
        "expire_seconds",
        "heartbeat_seconds",
        "retention_seconds",
        "dead_letter",
    )
)


dumps = validate.json_text  # JSON that jsonb accepts, or a clear InvalidOptionError


def _split(leases: Sequence[Lease]) -> tuple[list[int], list[int]]:
    return [lease.id for lease in leases], [lease.attempt for lease in leases]


def int_array(values: Sequence[int]) -> str:
    """A PostgreSQL array literal of integers (`{1,2,3}`): much cheaper to send than a list."""
    return "{" + ",".join(map(str, values)) + "}"


def _dump_outputs(outputs: Sequence[Any]) -> str:
    if all(out is None for out in outputs):  # the common case: handlers return nothing
        return "[" + ",".join(["null"] * len(outputs)) + "]"
    return dumps(list(outputs), "output")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerInfo:
    """What a process records about itself in its worker row."""

    id: str
    host: str
    pid: int
    queues: list[str]
    locked: bool  # holds its liveness lock (lock_worker.sql) while it lives

    def params(self) -> dict[str, Any]:
        return {
            "worker": self.id,
            "host": self.host,
            "pid": self.pid,
            "queues": self.queues,
            "locked": self.locked,
        }


@dataclass(frozen=True, slots=True)
class Fetched:
    jobs: list[Job]
    acked: list[int]
    started: datetime  # the statement's now(): the started_on of its claims


class Store:
    """Queue statements over a pool (or over a caller's connection where one is given)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self.last_ok = time.monotonic()  # when a statement of ours last succeeded
        self._in_flight: dict[Conn, float] = {}  # pool connections in use -> since when
        self._checking: asyncio.Future[None] | None = None

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A pool connection, tracked while in use; a clean exit counts as a round trip."""
        try:
            async with self.pool.connection() as conn:
                self._in_flight[conn] = time.monotonic()
                try:
                    yield conn
                finally:
                    self._in_flight.pop(conn, None)
        except psycopg.OperationalError:
            self._check_pool()
            raise
        self.last_ok = time.monotonic()

    def _check_pool(self) -> None:
        """A connection broke (server restarted?): have the pool test its idle connections now,
        in the background, so the next statements do not each draw another broken one."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.ensure_future(self.pool.check())

    def oldest_in_flight(self) -> float | None:
        """Since when (time.monotonic) the longest-running statement of ours has been waiting."""
        return min(self._in_flight.values(), default=None)

    def sever(self, older_than: float | None = None) -> int:
        """Shut down the sockets of the connections our statements are waiting on (those in use
        since before `older_than`, or all): the statements fail at once and the pool replaces
        the connections. Returns how many were severed."""
        doomed = [
            conn
            for conn, since in self._in_flight.items()
            if older_than is None or since < older_than
        ]
        for conn in doomed:
            sever(conn)
        return len(doomed)

    async def _rows(
        self, name: str, params: dict[str, Any], conn: Conn | None = None
    ) -> list[tuple[Any, ...]]:
        return await self.execute(SQL[name], params, conn)

    async def execute(
        self, query: LiteralString, params: dict[str, Any], conn: Conn | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one statement (ours, or one a queue subpackage loaded: `workflows/sql`) in
        `conn` or on a tracked pool connection; its rows."""
        if conn is not None:
            return await (await conn.execute(query, params)).fetchall()
        async with self._connection() as own:
            return await (await own.execute(query, params)).fetchall()

    async def insert(
        self, name: str, records: list[dict[str, Any]], conn: Conn | None = None
    ) -> list[int]:
        params = {"name": name, "jobs": dumps(records)}
        ((exists, ids, _woken),) = await self._rows("insert_jobs", params, conn)
        if not exists:
            raise UnknownQueueError(name)
        return list(ids)

    async def send(self, name: str, record: dict[str, Any], conn: Conn | None = None) -> int | None:
        """Insert one job, resolving the queue's defaults in SQL (unknown or grouped queues);
        None when a singleton rule deduplicated it."""
        ids = await self.insert(name, [record], conn)
        return ids[0] if ids else None

    async def send_direct(
        self,
        name: str,
        record: dict[str, Any],
        defaults: QueueOptions,
        conn: Conn | None = None,
        data_json: str | None = None,
    ) -> int | None:
        """Insert one job into an ungrouped queue with its defaults given; None if deduplicated.
        `data_json`: the job's data already encoded (`dumps`), when the caller has it."""
        params = {
            **SEND_PARAMS,
            "policy": defaults.policy,
            "priority": 0,
            "start_in": 0,
            "retry_limit": defaults.retry_limit,
            "retry_delay": defaults.retry_delay,
            "retry_backoff": defaults.retry_backoff,
            "retry_delay_max": defaults.retry_delay_max,
            "expire_seconds": defaults.expire_seconds,
            "heartbeat_seconds": defaults.heartbeat_seconds,
            "retention_seconds": defaults.retention_seconds,
            "dead_letter": defaults.dead_letter,
            **{k: v for k, v in record.items() if v is not None},
            "name": name,
            "data": dumps(record.get("data")) if data_json is None else data_json,
        }
        rows = await self._rows("send_job_direct", params, conn)
        return rows[0][0] if rows else None

    async def send_debounced(
        self,
        name: str,
        data_json: str,
        debounce: dict[str, Any],
        options: dict[str, Any],
        conn: Conn | None = None,
    ) -> tuple[int, bool]:
        """Send one debounced job: (its id, whether it is new)."""
        rest = {k: v for k, v in debounce.items() if k != "key"}
        [(job_id, inserted)] = await self.send_debounced_many(
            name, [debounce["key"]], [data_json], rest, options, conn
        )
        return job_id, inserted

    async def send_debounced_many(
        self,
        name: str,
        keys: list[str],
        datas_json: list[str],
        debounce: dict[str, Any],
        options: dict[str, Any],
        conn: Conn | None = None,
    ) -> list[tuple[int, bool]]:
        """Debounced sends of one queue, one per distinct key (send_debounced.sql): each job
        sent to and whether it is new. Raises UnknownQueueError for no queue `name`,
        InvalidOptionError for a queue whose policy has no one-queued-job-per-key index."""
        params = {
            "name": name,
            "keys": keys,
            "datas": datas_json,
            "options": dumps(options),
            **{k: v for k, v in debounce.items() if k != "key"},
        }
        rows = await self._rows("send_debounced", params, conn)
        policy = rows[0][0] if rows else None
        if policy is None:
            raise UnknownQueueError(name)
        sent = [(row[1], bool(row[2])) for row in rows if row[1] is not None]
        if keys and not sent:
            raise InvalidOptionError(f"debounce needs a 'standard' queue; {name!r} is {policy!r}")
        return sent

    async def fetch(
        self,
        name: str,
        limit: int,
        worker: str,
        *,
        query: str = "fetch_jobs",
        acks: Sequence[Lease] = (),
        outputs: Sequence[Any] = (),
        began: Sequence[Lease] = (),
        running: bool = True,
        only: Sequence[int] | None = None,
    ) -> Fetched:
        """Acknowledge `acks` (with their `outputs`), record that the attempts in `began` have
        started and claim up to `limit` jobs (at most MAX_CLAIM per call; marked started when
        `running`), in one statement."""
        params = {
            "name": name,
            "limit": min(limit, MAX_CLAIM),
            "worker": worker,
            "done_ids": int_array([lease[0] for lease in acks]),
            "done_attempts": int_array([lease[1] for lease in acks]),
            "done_outputs": _dump_outputs(outputs),
            "began_ids": int_array([lease[0] for lease in began]),
            "began_attempts": int_array([lease[1] for lease in began]),
            "running": running,
            "groups": max(1, -(-limit // 4)),  # keys considered per claim: each may win a share
        }
        if only is not None:  # fetch_jobs_only: these jobs and no others
            params["only"] = int_array(only)
        rows = await self._rows(query, params)
        jobs = [Job.from_fetch_row(name, row) for row in rows if row[0] is not None]
        acks = next(row for row in reversed(rows) if row[0] is None)  # one row, last in practice
        return Fetched(jobs, list(acks[12] or []), acks[11])

    async def complete(self, leases: Sequence[Lease], outputs: Sequence[Any]) -> list[int]:
        ids, attempts = _split(leases)
        params = {"ids": ids, "attempts": attempts, "outputs": dumps(list(outputs), "output")}
        return [row[0] for row in await self._rows("complete_jobs", params)]

    async def fail(self, leases: Sequence[Lease], errors: Sequence[Any]) -> list[tuple[Any, ...]]:
        ids, attempts = _split(leases)
        params = {"ids": ids, "attempts": attempts, "errors": dumps(list(errors), "error")}
        return await self._rows("fail_jobs", params)

    async def lease_states(self, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """job id -> (current attempt, state) for the jobs that still exist."""
        rows = await self._rows("get_lease_states", {"ids": int_array(ids)})
        return {row[0]: (row[1], row[2]) for row in rows}

    async def heartbeat(self, leases: Sequence[Lease]) -> set[int]:
        ids, attempts = _split(leases)
        return {
            row[0] for row in await self._rows("heartbeat_jobs", {"ids": ids, "attempts": attempts})
        }

    async def release(self, leases: Sequence[Lease]) -> list[int]:
        ids, attempts = _split(leases)
        return [
            row[0] for row in await self._rows("release_jobs", {"ids": ids, "attempts": attempts})
        ]

    async def release_out_of_time(self, leases: Sequence[Lease], max_cutoffs: int) -> list[int]:
        """Give back attempts a drain run's budget cut off (failed after `max_cutoffs`)."""
        ids, attempts = _split(leases)
        params = {"ids": ids, "attempts": attempts, "max_cutoffs": max_cutoffs}
        return [row[0] for row in await self._rows("release_out_of_time", params)]

    async def drain_status(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """Per queue of `names`: jobs due now, running, the next due time, paused."""
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (await cur.execute(SQL["drain_status"], {"names": list(names)})).fetchall()

    async def snooze(
        self, leases: Sequence[Lease], seconds: Sequence[float], *, pause_group: bool = False
    ) -> list[int]:
        ids, attempts = _split(leases)
        params = {"ids": ids, "attempts": attempts, "seconds": list(seconds)}
        snoozed = [row[0] for row in await self._rows("snooze_jobs", params)]
        if pause_group and snoozed:
            await self._rows("pause_groups", {"ids": ids, "seconds": list(seconds)})
        return snoozed

    async def set_paused(self, name: str, paused: bool) -> bool:
        return bool(await self._rows("set_queue_paused", {"name": name, "paused": paused}))

    async def pause_until(self, name: str, seconds: float) -> bool:
        return bool(await self._rows("pause_queue_until", {"name": name, "seconds": seconds}))

    async def promote(
        self, name: str, singleton_key: str, priority: int, conn: Conn | None = None
    ) -> list[int]:
        params = {"name": name, "singleton_key": singleton_key, "priority": priority}
        return [row[0] for row in await self._rows("promote_jobs", params, conn)]

    async def hurry(self, name: str, singleton_key: str, conn: Conn | None = None) -> list[int]:
        params = {"name": name, "singleton_key": singleton_key}
        return [row[0] for row in await self._rows("hurry_jobs", params, conn)]

    async def redrive(self, name: str, limit: int) -> int:
        ((revived, _completed, _woken),) = await self._rows(
            "redrive_jobs", {"name": name, "limit": limit}
        )
        return int(revived)

    async def find(
        self,
        *,
        name: str | None = None,
        states: Sequence[str] | None = None,
        group_key: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 100,
    ) -> list[Job]:
        params = {
            "name": name,
            "states": list(states) if states else None,
            "group_key": group_key,
            "since": since,
            "until": until,
            "limit": limit,
        }
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = await (await cur.execute(SQL["find_jobs"], params)).fetchall()
        return [Job.from_mapping(row) for row in rows]

    async def attempts(self, job_id: int) -> list[dict[str, Any]]:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (await cur.execute(SQL["get_attempts"], {"id": job_id})).fetchall()

    # -- schedules, leases, workers, pruning ---------------------------------------------------

    async def upsert_schedule(self, params: dict[str, Any]) -> None:
        await self._rows(
            "upsert_schedule",
            {
                **params,
                "data": dumps(params["data"]),
                "options": dumps(params["options"], "options"),
            },
        )

    async def delete_schedules(self, name: str, key: str | None) -> int:
        return len(await self._rows("delete_schedules", {"name": name, "key": key}))

    async def schedules(self, *, due: bool = False, limit: int = 10_000) -> list[dict[str, Any]]:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (
                await cur.execute(SQL["get_schedules"], {"due": due, "limit": limit})
            ).fetchall()

    async def fire_schedule(
        self, name: str, key: str, tick: Any, next_tick: Any
    ) -> int | bool | None:
        """Advance the schedule past `tick` and send its job, atomically; False if already fired."""
        params = {"name": name, "key": key, "tick": tick, "next_tick": next_tick}
        async with self._connection() as conn, conn.transaction():
            rows = await (await conn.execute(SQL["advance_schedule"], params)).fetchall()
            if not rows:
                return False
            data, options = rows[0]
            return await self.send(name, {**options, "data": data}, conn)

    async def acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        return bool(await self._rows("acquire_lease", {"name": name, "holder": holder, "ttl": ttl}))

    async def release_lease(self, name: str, holder: str) -> None:
        await self._rows("release_lease", {"name": name, "holder": holder})

    async def register_worker(
        self, worker_id: str, host: str, pid: int, queues: list[str], locked: bool = False
    ) -> None:
        params = {"id": worker_id, "host": host, "pid": pid, "queues": queues, "locked": locked}
        await self._rows("register_worker", params)

    @staticmethod
    async def lock_worker(conn: Conn, worker_id: str) -> bool:
        """Take this worker's liveness lock on `conn` (a session of its own) for as long as the
        session lives; False when an earlier session of the worker still holds it."""
        cur = await conn.execute(SQL["lock_worker"], {"worker": worker_id})
        row = await cur.fetchone()
        return bool(row and row[0])

    async def delete_workers(self, worker_id: str | None, stale_seconds: float) -> int:
        return len(
            await self._rows("delete_workers", {"id": worker_id, "stale_seconds": stale_seconds})
        )

    async def workers(self) -> list[dict[str, Any]]:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (await cur.execute(SQL["get_workers"])).fetchall()

    async def depth(self) -> list[dict[str, Any]]:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (await cur.execute(SQL["queue_depth"])).fetchall()

    async def throughput(self, minutes: int) -> list[tuple[Any, ...]]:
        return await self._rows("job_throughput", {"minutes": minutes})

    async def pauses(self) -> dict[str, Any]:
        """Paused queues: None when until resumed, else the time a timed pause ends."""
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = await (await cur.execute(SQL["get_queues"])).fetchall()
        return {
            row["name"]: None if row["paused"] else row["paused_until"]
            for row in rows
            if row["paused"] or row["paused_until"] is not None
        }

    async def prune(self, limit: int) -> int:
        return len(await self._rows("prune_jobs", {"limit": limit}))

    async def rescue(
        self,
        worker: WorkerInfo,
        held: Sequence[int] = (),
        *,
        synced: dict[str, datetime] | None = None,
        dead_seconds: float = 6.0,
        rescue: bool = True,
        limit: int = 1000,
    ) -> list[tuple[Any, ...]]:
        """Record that `worker` is alive and (when `rescue`) give back the attempts of dead
        workers, stale attempts and, per queue in `synced`, the attempts `worker` claimed by then
        and never received; never those it still holds (ids in `held`)."""
        synced = synced or {}
        params = {
            **worker.params(),
            "limit": limit,
            "held": int_array(held),
            "synced_names": list(synced),
            "synced_at": list(synced.values()),
            "dead_seconds": dead_seconds,
            "rescue": rescue,
        }
        return await self._rows("rescue_jobs", params)

    async def set_state(self, query: str, ids: Sequence[int]) -> list[int]:
        """Run one of cancel_jobs / resume_jobs / retry_jobs / delete_jobs."""
        return [row[0] for row in await self._rows(query, {"ids": list(ids)})]

    async def cancel_queued(
        self, name: str, keys: Sequence[str], conn: Conn | None = None
    ) -> list[int]:
        """Cancel the queued jobs of `name` whose singleton key is one of `keys`."""
        params = {"name": name, "keys": list(keys)}
        return [row[0] for row in await self._rows("cancel_queued", params, conn)]

    async def purge(self, name: str) -> list[int]:
        return [row[0] for row in await self._rows("purge_queue", {"name": name})]

    async def get_job(self, job_id: int) -> Job | None:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = await (await cur.execute(SQL["get_job"], {"id": job_id})).fetchone()
        return Job.from_mapping(row) if row else None

    async def upsert_queue(self, name: str, options: QueueOptions) -> None:
        await self._rows("upsert_queue", options.as_params(name))

    async def get_queues(self) -> dict[str, QueueOptions]:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = await (await cur.execute(SQL["get_queues"])).fetchall()
        return {
            row.pop("name"): QueueOptions(
                **{k: v for k, v in row.items() if k not in ("paused", "paused_until")}
            )
            for row in rows
        }

    async def stats(self, name: str | None = None) -> dict[str, dict[str, int]]:
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = await (await cur.execute(SQL["queue_stats"], {"name": name})).fetchall()
        return {row.pop("name"): row for row in rows}
