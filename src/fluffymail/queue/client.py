"""`JobQueue`: the queue's public face, in pg-boss's vocabulary (send, fetch, work, stop, ...)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import batch, cron, debounce, validate
from fluffymail.queue.batch import BatchHandler
from fluffymail.queue.errors import InvalidHandlerError, InvalidOptionError, UnknownQueueError
from fluffymail.queue.events import Events
from fluffymail.queue.job import Job, Lease
from fluffymail.queue.maintenance import Maintenance, MaintenanceOptions
from fluffymail.queue.notifier import Notifier
from fluffymail.queue.options import QueueOptions, job_record, queue_options, spec_record
from fluffymail.queue.service import Loop, bounded
from fluffymail.queue.store import Conn, Store, WorkerInfo
from fluffymail.queue.watchdog import Watchdog, WatchdogOptions
from fluffymail.queue.worker import Handler, Worker, describe_error

JobRef = Job | Lease
QUEUE_CACHE_SECONDS = 30.0  # how stale a queue's defaults may be when a job is sent
MAX_THROUGHPUT_MINUTES = 31 * 24 * 60
EXIT_MARGIN = 0.5  # seconds of shutdown_timeout left for the process to exit after stop()
# A job a drain run's budget cuts off goes back without spending a retry this many times; the
# next cut-off fails its attempt (release_out_of_time.sql).
MAX_CUTOFFS = 3


class JobQueue:
    """A PostgreSQL job queue.

    Args:
        pool: an autocommit `AsyncConnectionPool` on a database migrated by `fluffymail.db`.
        poll_interval: seconds between polls when no NOTIFY arrives (also the retry granularity).
        rescue_interval: seconds between checks for jobs whose worker died or that expired
            (each check also renews this process's worker row).
        heartbeat_interval: seconds between heartbeat passes over held jobs.
        listen: use LISTEN/NOTIFY for low-latency wake-ups (polling stays as the safety net);
            the listening session also holds this process's liveness lock.
        listen_url: where that session connects (default: the pool's); behind a transaction
            pooler, a direct URL to the server, since a pooler keeps no session.
        maintenance: leader lease, schedule, pruning and registry timings.
        watchdog: when a silent database counts as unreachable (see `watchdog.py`).
        shutdown_timeout: seconds `stop()` may take beyond its grace before it gives up on
            handlers that ignore cancellation and on a database that does not answer.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        poll_interval: float = 1.0,
        rescue_interval: float = 2.5,
        heartbeat_interval: float = 2.0,
        listen: bool = True,
        listen_url: str | None = None,
        maintenance: MaintenanceOptions | None = None,
        watchdog: WatchdogOptions | None = None,
        shutdown_timeout: float = 5.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.pool = pool
        self.store = Store(pool)
        self.log = log or logging.getLogger("fluffymail.queue")
        self.events = Events(self.log)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_interval = poll_interval
        self._workers: list[Worker] = []
        self._queues: dict[str, QueueOptions] = {}
        self._queues_loaded = 0.0
        self._notifier = (
            Notifier(
                listen_url or pool.conninfo, self._on_notify, self.log, pool.kwargs, self._lock
            )
            if listen
            else None
        )
        options = maintenance or MaintenanceOptions(rescue_interval=rescue_interval)
        self.maintenance = Maintenance(
            self.store, self.worker_id, self._me, self.rescue, options, self.log
        )
        self._heartbeats = Loop("queue.heartbeat", self._heartbeat, heartbeat_interval, self.log)
        self.watchdog = Watchdog(
            self.store,
            pool,
            watchdog or WatchdogOptions(),
            self.log,
            on_stall=self._notifier.reset if self._notifier else lambda: None,
            on_recover=self._reconnected,
        )
        self.shutdown_timeout = shutdown_timeout
        self.rescued = 0  # attempts of dead workers this process gave back
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, *, upkeep_first: bool = False) -> None:
        """Start listening, heartbeats and the maintenance loops (see `maintenance.py`).

        `upkeep_first` (a drain run): run every maintenance step once now, in order (rescue,
        leadership, due ticks, pruning), and let the loops take over one interval later."""
        if self._started:
            return
        self._started = True
        if self._notifier is not None:
            self._notifier.start()
            await asyncio.wait_for(self._notifier.listening.wait(), 10)
        if upkeep_first:
            await self.maintenance.run_once()  # its rescue step records the worker row too
        else:
            await self.maintenance.register()  # before the first claim: the rescuer keys on it
        self._heartbeats.start()
        self.maintenance.start(wait_first=upkeep_first)
        self.watchdog.start()

    async def stop(
        self, grace: float = 20.0, *, stop_timeout: float | None = None, out_of_time: bool = False
    ) -> bool:
        """Stop every worker: no new claims, `grace` seconds for running jobs, the rest released.

        `stop_timeout` stands in for `shutdown_timeout`. `out_of_time` (a drain run's budget ended):
        the attempts cut off mid-handler go back as 'out of time' (see release_out_of_time.sql)
        rather than as a plain release.

        Returns within `grace + shutdown_timeout` seconds whatever happens: handlers that
        ignore cancellation, and work the database does not take in time (acks, releases,
        deregistering), are then abandoned, and it returns False. Abandoned attempts stay
        active until the rescuer of a live worker fails them once their heartbeat lapses (so
        they run again, with a retry spent). True: everything finished, acked or released.
        """
        loop = asyncio.get_running_loop()
        # a margin for the process to exit after us, so it is gone by grace + shutdown_timeout
        timeout = self.shutdown_timeout if stop_timeout is None else stop_timeout
        deadline = loop.time() + grace + max(timeout - EXIT_MARGIN, 0.1)

        def left() -> float:
            return max(deadline - loop.time(), 0.0)

        workers = self._workers  # still heart-beating while they drain
        results = await asyncio.gather(*(worker.stop(grace, deadline) for worker in workers))
        self._workers = []
        clean = not any(worker.abandoned for worker in workers)
        unfinished = [lease for leases in results for lease in leases]
        cut = {lease.id for worker in workers for lease in worker.cut_off} if out_of_time else set()
        if unfinished:
            clean = await self._release(unfinished, left(), cut) and clean
        if not self._started:
            return clean
        self._started = False
        clean = await self._heartbeats.stop(left()) and clean
        try:
            clean = await bounded(self.maintenance.stop(), left()) and clean
        except Exception as exc:
            clean = False
            self.log.warning(
                "could not deregister this worker",
                extra={"action": "queue.deregister_error", "error": repr(exc)},
            )
        if self._notifier is not None:
            clean = await self._notifier.stop(left()) and clean
        clean = await self.watchdog.stop(left()) and clean
        if not clean:
            self.log.error(
                "shutdown gave up on unfinished work at its deadline",
                extra={"action": "queue.stop_deadline", "grace": grace},
            )
        return clean

    async def _release(self, leases: list[Lease], seconds: float, cut: set[int]) -> bool:
        try:
            return await bounded(self._release_now(leases, cut), seconds)
        except Exception as exc:
            self.log.warning(
                "could not release unfinished jobs",
                extra={"action": "queue.release_error", "error": repr(exc)},
            )
            return False

    async def _release_now(self, leases: list[Lease], cut: set[int]) -> None:
        plain = [lease for lease in leases if lease.id not in cut]
        late = [lease for lease in leases if lease.id in cut]
        released = await self.store.release(plain) if plain else []
        if late:
            released += await self.store.release_out_of_time(late, MAX_CUTOFFS)
        self.log.info(
            "released unfinished jobs", extra={"action": "queue.released", "count": len(released)}
        )

    # -- schedules -------------------------------------------------------------------------

    async def schedule(
        self,
        name: str,
        cron_expr: str,
        data: Any = None,
        *,
        tz: str = "UTC",
        key: str | None = None,
        **options: Any,
    ) -> None:
        """Send a job to `name` at every tick of `cron_expr` (5 fields, or 6 with seconds first).

        One schedule per (name, key): each mail connection can have its own. The jobs carry
        `key` as their singleton key, so a `stately` queue keeps a slow sync from piling up.
        Exactly one job is sent per tick however many processes run; after downtime, one.
        """
        validate.queue_name(name)
        cron.validate(validate.text(cron_expr, "cron expression"), validate.text(tz, "tz"))
        key = None if key is None else validate.key(key, "key")
        record = job_record(data, options)
        validate.json_text(data)
        await self._require_queue(name)
        await self._require_dead_letter(record)
        if key and "singleton_key" not in record:
            record["singleton_key"] = key
        now = datetime.now(UTC)
        last = cron.latest_tick(cron_expr, tz, now)
        await self.store.upsert_schedule(
            {
                "name": name,
                "key": key or "",
                "cron": cron_expr,
                "tz": tz,
                "data": data,
                "options": {k: v for k, v in record.items() if k != "data"},
                "last_tick": last,
                "next_tick": cron.next_tick(cron_expr, tz, last),
            }
        )

    async def unschedule(self, name: str, key: str | None = None) -> int:
        """Remove the schedule (name, key), or every schedule of `name` when key is None."""
        validate.queue_name(name)
        key = None if key is None else validate.key(key, "key")
        return await self.store.delete_schedules(name, key)

    async def get_schedules(self) -> list[dict[str, Any]]:
        """Every schedule with its cron, zone, data, last and next tick."""
        rows = await self.store.schedules()
        return [{k: v for k, v in row.items() if k != "db_now"} for row in rows]

    async def get_workers(self) -> list[dict[str, Any]]:
        """Worker processes alive now (host, pid, queues, started, last heartbeat)."""
        return await self.store.workers()

    # -- queues ----------------------------------------------------------------------------

    async def create_queue(self, name: str, **options: Any) -> QueueOptions:
        """Create (or update the defaults of) queue `name`; see `QueueOptions` for the options.

        A `dead_letter` queue must exist already (it may be `name` itself)."""
        validate.queue_name(name)
        validated = queue_options(**options)
        if validated.dead_letter is not None and validated.dead_letter != name:
            await self._require_queue(validated.dead_letter)
        await self.store.upsert_queue(name, validated)
        self._queues[name] = validated
        return validated

    async def get_queues(self) -> dict[str, QueueOptions]:
        self._queues = await self.store.get_queues()
        self._queues_loaded = time.monotonic()
        return dict(self._queues)

    async def get_queue_stats(
        self, name: str | None = None
    ) -> dict[str, dict[str, int]] | dict[str, int]:
        """Counts by state for one queue (a dict of state -> count) or for all (queue -> dict)."""
        if name is not None:
            validate.queue_name(name)
        stats = await self.store.stats(name)
        if name is None:
            return stats
        if name not in stats:
            raise UnknownQueueError(name)
        return stats[name]

    async def get_queue_depth(self) -> dict[str, dict[str, Any]]:
        """Per queue: jobs available now, deferred, active, the oldest available job's age and
        live workers. Cheap at any table size (partial indexes only), unlike get_queue_stats,
        which also counts finished jobs."""
        return {row["name"]: row for row in await self.store.depth()}

    async def get_paused_queues(self) -> set[str]:
        """Names of the queues an operator paused (until resumed)."""
        return {name for name, until in (await self.store.pauses()).items() if until is None}

    async def get_queue_pauses(self) -> dict[str, datetime | None]:
        """Every paused queue: None when paused until resumed, else when its timed pause
        (`pause_queue(name, seconds)` or a `Snooze(pause_queue=True)`) ends."""
        return await self.store.pauses()

    async def get_throughput(self, minutes: int = 60) -> tuple[datetime, list[int]]:
        """Jobs completed per minute over the last `minutes` minutes (current minute last),
        and the database's time (at most MAX_THROUGHPUT_MINUTES)."""
        validate.integer(minutes, "minutes", 1, MAX_THROUGHPUT_MINUTES)
        rows = await self.store.throughput(minutes - 1)
        now = rows[0][2]
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
        counts = [0] * minutes
        for minute, completed, _ in rows:
            if (
                minute is not None
                and 0 <= (index := int((minute - start).total_seconds() // 60)) < minutes
            ):
                counts[index] = int(completed)
        return now, counts

    async def _cached_queue(self, name: str) -> QueueOptions | None:
        """The queue's defaults from a cache refreshed every QUEUE_CACHE_SECONDS (pg-boss keeps
        one too); None when the queue is unknown, so the caller takes the checked path."""
        if time.monotonic() - self._queues_loaded > QUEUE_CACHE_SECONDS or name not in self._queues:
            await self.get_queues()
        return self._queues.get(name)

    async def _require_queue(self, name: str) -> QueueOptions:
        """The queue's defaults; UnknownQueueError if there is no such queue."""
        if name not in self._queues:
            await self.get_queues()
        if name not in self._queues:
            raise UnknownQueueError(name)
        return self._queues[name]

    async def _require_dead_letter(self, record: dict[str, Any]) -> None:
        """A job's own dead-letter queue must exist, or its failure would go nowhere."""
        if "dead_letter" in record:
            await self._require_queue(record["dead_letter"])

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self, name: str, data: Any = None, *, conn: Conn | None = None, **options: Any
    ) -> int | None:
        """Send one job; returns its id, or None when a singleton rule deduplicated it.

        With `debounce=` (and `debounce_key=`, optionally `debounce_max=`, `debounce_data=`)
        sends for one key collapse into one job that runs once they stop: see `debounce.py`;
        the id returned is then always that of the job that will run.

        Pass `conn` to enqueue inside your own transaction: the job exists (and workers are
        woken) only if that transaction commits.

        Raises:
            InvalidOptionError: before any SQL, for input the database could not take (see
                `validate.py` for the limits, `options.py` for the option forms).
            UnknownQueueError: no queue `name`, or no queue named by the `dead_letter` option.
        """
        validate.queue_name(name)
        if debounce.wanted(options):
            return await self._send_debounced(name, data, conn, options)
        record = job_record(data, options)
        encoded = validate.json_text(data)  # checked before any statement, then sent as is
        if "dead_letter" in record:
            await self._require_dead_letter(record)
        defaults = await self._cached_queue(name)
        if defaults is not None and not defaults.grouped:
            return await self.store.send_direct(name, record, defaults, conn, encoded)
        return await self.store.send(name, record, conn)

    async def _send_debounced(
        self, name: str, data: Any, conn: Conn | None, options: dict[str, Any]
    ) -> int:
        """A send with `debounce=`: see `debounce.py`. Returns the id of the job that will run."""
        rule, record = debounce.parse(data, options)
        encoded = validate.json_text(data)
        await self._require_dead_letter(record)
        job_id, _new = await self.store.send_debounced(name, encoded, rule.params(), record, conn)
        return job_id

    async def send_debounced_many(
        self,
        name: str,
        items: Sequence[tuple[str, Any]],
        *,
        conn: Conn | None = None,
        **options: Any,
    ) -> int:
        """Debounced sends of many keys in one statement: `items` are `(debounce_key, data)`,
        `options` those of `send` with `debounce=` (shared by all). A key given twice keeps
        its last data. How many new jobs (the others were absorbed by their key's queued job)."""
        validate.queue_name(name)
        latest = {validate.key(key, "debounce_key"): data for key, data in items}
        if not latest:
            return 0
        first = next(iter(latest))
        rule, record = debounce.parse(None, {**options, "debounce_key": first})
        await self._require_dead_letter(record)
        datas = [validate.json_text(data) for data in latest.values()]
        sent = await self.store.send_debounced_many(
            name, list(latest), datas, rule.params(), record, conn
        )
        return sum(new for _, new in sent)

    async def replace(
        self,
        name: str,
        data: Any = None,
        *,
        singleton_key: str,
        conn: Conn | None = None,
        **options: Any,
    ) -> int | None:
        """Send a job that takes the place of the queued job of `name` with `singleton_key`
        (cancelled, if it has not started): a re-scheduled reminder runs once, at its new
        time. Pass `conn` so both happen in your transaction."""
        await self.cancel_queued(name, [singleton_key], conn=conn)
        return await self.send(name, data, conn=conn, singleton_key=singleton_key, **options)

    async def cancel_queued(
        self, name: str, singleton_keys: Sequence[str], *, conn: Conn | None = None
    ) -> list[int]:
        """Cancel the jobs of `name` not yet started that carry one of `singleton_keys`."""
        name = validate.queue_name(name)
        keys = [validate.key(k, "singleton_key") for k in validate.items(singleton_keys, "keys")]
        return await self.store.cancel_queued(name, keys, conn) if keys else []

    async def promote(
        self, name: str, singleton_key: str, priority: int, *, conn: Conn | None = None
    ) -> list[int]:
        """Raise the queued jobs of `name` with `singleton_key` to `priority` (never lower it);
        returns their ids. With a singleton rule, `send` returns None when it joins a queued
        job: promote it when the new request is more urgent than the one queued."""
        validate.queue_name(name)
        singleton_key = validate.key(singleton_key, "singleton_key")
        validate.integer(priority, "priority", validate.INT4_MIN, validate.INT4_MAX)
        return await self.store.promote(name, singleton_key, priority, conn)

    async def hurry(self, name: str, singleton_key: str, *, conn: Conn | None = None) -> list[int]:
        """Start now the queued jobs of `name` with `singleton_key` that wait for a later start
        (`start_after`); returns their ids. With a singleton rule, `send` returns None when it
        joins a queued job: hurry it when the new request wants the work done now."""
        validate.queue_name(name)
        singleton_key = validate.key(singleton_key, "singleton_key")
        return await self.store.hurry(name, singleton_key, conn)

    async def insert(
        self,
        name: str,
        jobs: Iterable[Any],
        *,
        conn: Conn | None = None,
        options: dict[str, Any] | None = None,
    ) -> list[int]:
        """Send many jobs in one round trip; each item is one job's data and `options` apply to
        all of them. Returns the ids created (deduplicated jobs are left out)."""
        validate.queue_name(name)
        shared = job_record(None, options or {})
        del shared["data"]
        await self._require_dead_letter(shared)
        records = [{**shared, "data": data} for data in validate.items(jobs, "jobs")]
        return await self.store.insert(name, records, conn) if records else []

    async def insert_many(
        self, name: str, specs: Iterable[dict[str, Any]], *, conn: Conn | None = None
    ) -> list[int]:
        """Send many jobs with per-job options: each spec is `{"data": ..., **options}`."""
        validate.queue_name(name)
        records = [spec_record(spec) for spec in validate.items(specs, "specs")]
        for dead_letter in {record["dead_letter"] for record in records if "dead_letter" in record}:
            await self._require_queue(dead_letter)
        return await self.store.insert(name, records, conn) if records else []

    # -- manual processing -----------------------------------------------------------------

    async def fetch(self, name: str, batch_size: int = 1) -> list[Job]:
        """Claim up to `batch_size` jobs; finish each with `complete` or `fail`."""
        validate.queue_name(name)
        validate.integer(batch_size, "batch_size", 1)
        options = await self._require_queue(name)
        fetched = await self.store.fetch(
            name, batch_size, self.worker_id, query=options.fetch_query, running=True
        )
        return fetched.jobs

    async def complete(self, jobs: JobRef | Sequence[JobRef], output: Any = None) -> list[int]:
        """Complete attempts; returns the ids accepted (a stale lease is refused)."""
        leases = _leases(jobs)
        validate.json_text(output, "output")
        return await self.store.complete(leases, [output] * len(leases))

    async def fail(self, jobs: JobRef | Sequence[JobRef], error: Any = None) -> list[int]:
        """Fail attempts (retrying while retries remain); returns the ids accepted."""
        leases = _leases(jobs)
        payload = describe_error(error) if isinstance(error, BaseException) else error
        validate.json_text(payload, "error")
        rows = await self.store.fail(leases, [payload] * len(leases))
        return [row[0] for row in rows]

    async def cancel(self, ids: int | Sequence[int]) -> list[int]:
        return await self.store.set_state("cancel_jobs", validate.job_ids(ids))

    async def resume(self, ids: int | Sequence[int]) -> list[int]:
        return await self.store.set_state("resume_jobs", validate.job_ids(ids))

    async def retry(self, ids: int | Sequence[int]) -> list[int]:
        return await self.store.set_state("retry_jobs", validate.job_ids(ids))

    async def delete_job(self, ids: int | Sequence[int]) -> list[int]:
        return await self.store.set_state("delete_jobs", validate.job_ids(ids))

    async def purge_queue(self, name: str) -> int:
        """Delete every job of queue `name` that is not running; returns how many."""
        validate.queue_name(name)
        await self._require_queue(name)
        return len(await self.store.purge(name))

    async def pause_queue(self, name: str, seconds: float | None = None) -> None:
        """Stop every worker from claiming jobs of `name` until `resume_queue`, or for
        `seconds` when given (a longer pause already set stays)."""
        validate.queue_name(name)
        if seconds is not None:
            seconds = validate.seconds(seconds, "pause seconds")
        if seconds is None:
            found = await self.store.set_paused(name, True)
        else:
            found = await self.store.pause_until(name, seconds)
        if not found:
            raise UnknownQueueError(name)

    async def resume_queue(self, name: str) -> None:
        validate.queue_name(name)
        if not await self.store.set_paused(name, False):
            raise UnknownQueueError(name)
        self._on_notify(name)

    async def redrive(self, dead_letter_queue: str, limit: int | None = None) -> int:
        """Send jobs of a dead-letter queue back to their source queues; returns how many."""
        validate.queue_name(dead_letter_queue)
        if limit is not None:
            validate.integer(limit, "limit", 0, validate.BIGINT_MAX)
        await self._require_queue(dead_letter_queue)
        total, batch = 0, 1000
        while limit is None or total < limit:
            step = batch if limit is None else min(batch, limit - total)
            moved = await self.store.redrive(dead_letter_queue, step)
            total += moved
            if moved < step:
                break
        return total

    async def find_jobs(self, **filters: Any) -> list[Job]:
        """Jobs matching `name`, `states`, `group_key`, `since`, `until` (newest first, `limit`)."""
        return await self.store.find(**validate.filters(filters))

    async def retry_matching(self, **filters: Any) -> int:
        """Retry every failed job matching the filter (see `find_jobs`), in batches."""
        return await self._bulk("retry_jobs", {"failed"}, filters)

    async def cancel_matching(self, **filters: Any) -> int:
        """Cancel every queued or running job matching the filter, in batches."""
        return await self._bulk("cancel_jobs", {"created", "retry", "active"}, filters)

    async def _bulk(self, query: str, allowed: set[str], filters: dict[str, Any]) -> int:
        filters = validate.filters(filters)
        filters.pop("limit", None)
        states = sorted(allowed & set(filters.pop("states", None) or allowed))
        total = 0
        while jobs := await self.store.find(**filters, states=states, limit=1000):
            changed = await self.store.set_state(query, [job.id for job in jobs])
            total += len(changed)
            if not changed:
                break
        return total

    async def get_attempts(self, job_id: int) -> list[dict[str, Any]]:
        """Every attempt of a job: started/finished, worker, outcome, error, seconds."""
        return await self.store.attempts(validate.job_id(job_id))

    async def get_job(self, job_id: int) -> Job | None:
        return await self.store.get_job(validate.job_id(job_id))

    # -- workers ---------------------------------------------------------------------------

    async def work(
        self,
        name: str,
        handler: Handler | BatchHandler,
        *,
        concurrency: int = 1,
        batch_size: int | None = None,
        batch_window: Any = None,
        only: Sequence[int] | None = None,
    ) -> Worker:
        """Run `handler(job)` for jobs of `name`, up to `concurrency` at once.

        `only`: take only these jobs (a command that runs one job in its own process, e.g. a
        workflow run with handlers of its own): one still 'created' is taken at once whatever
        its start (send it with a later start so that other workers leave it), one waiting to
        retry once it is due; at most one job per singleton key at a time.

        The handler's return value is stored as the job's output; an exception fails the
        attempt (retried per the job's retry options). Starts the queue if needed.

        With `batch_window` (seconds, 0 for what one claim brings) the handler is a batch
        handler, `handler(jobs)`, called with up to `batch_size` jobs (default 100), up to
        `concurrency` batches at once: see `batch.py`. Without it, `batch_size` is how many
        jobs one claim may take.
        """
        if not _is_async_callable(handler):
            raise InvalidHandlerError(
                f"handler for {name!r} must be an async def function, got {handler!r}"
            )
        validate.queue_name(name)
        validate.integer(concurrency, "concurrency", 1)
        run = cast(Handler, handler)
        if batch_window is not None:  # each slot's job waits for its share of a batch call
            gather = batch.batch_options(batch_size, batch_window, concurrency)
            run = batch.Batcher(cast(BatchHandler, handler), gather, self.log)
            concurrency, batch_size = gather.slots, gather.size
        elif batch_size is not None:
            validate.integer(batch_size, "batch_size", 1)
        options = await self._require_queue(name)
        if only is not None and options.grouped:
            raise InvalidOptionError(f"work(only=...) takes no fair queue; {name!r} is fair")
        await self.start()
        worker = Worker(
            self.store,
            name,
            run,
            concurrency=concurrency,
            batch_size=batch_size or concurrency,
            fetch_query=options.fetch_query if only is None else "fetch_jobs_only",
            poll_interval=self.poll_interval,
            worker_id=self.worker_id,
            events=self.events,
            log=self.log,
            only=None if only is None else validate.job_ids(list(only)),
        )
        self._workers.append(worker)
        worker.start()
        return worker

    def queue_names(self) -> list[str]:
        """The queues this process works."""
        return [worker.name for worker in self._workers]

    def on(self, event: str, callback: Any) -> None:
        """Subscribe to `completed`, `retried`, `failed` or `error` events."""
        self.events.on(event, callback)

    # -- maintenance -----------------------------------------------------------------------

    async def rescue(self) -> int:
        """Renew this process's worker row, and give back attempts whose worker died (failed,
        or released without spending a retry if they never started), that ran past their
        expiry or heartbeat, or that our workers claimed by statements whose reply was lost.

        Never the attempts this process still holds, and nothing while the database is
        unreachable; during `stall_seconds` after it answers again only the row is renewed:
        other workers that were cut off too first flush their acks and heartbeats."""
        watchdog, now = self.watchdog, time.monotonic()
        if watchdog.stalled_since is not None:
            return 0
        settling = (
            watchdog.recovered_at is not None
            and now - watchdog.recovered_at < watchdog.options.stall_seconds
        )
        held = [job_id for worker in self._workers for job_id in worker.holding()]
        rows = await self.store.rescue(
            self._me(),
            held,
            synced=self._synced(),
            dead_seconds=self.maintenance.options.worker_dead_seconds,
            rescue=not settling,
        )
        if rows:
            self.rescued += len(rows)
            self.log.warning("rescued jobs", extra={"action": "queue.rescued", "count": len(rows)})
            for worker in self._workers:
                worker.wake()
        return len(rows)

    async def _heartbeat(self) -> None:
        """Extend the lease of held jobs; drop the ones whose lease is gone."""
        now = time.monotonic()
        due = [
            (worker, held)
            for worker in self._workers
            for held in list(worker.held.values())
            if now - held.last_beat >= held.job.heartbeat_seconds / 3
        ]
        if not due:
            return
        alive = await self.store.heartbeat([held.job.lease for _, held in due])
        for worker, held in due:
            held.last_beat = now
            if held.job.id not in alive:
                self.log.warning(
                    "lease lost (job cancelled, expired or rescued); stopping it",
                    extra={"action": "queue.lease_lost", "job_id": held.job.id},
                )
                worker.lose(held)

    def _synced(self) -> dict[str, datetime]:
        """Per queue, the earliest `Worker.synced` of this process's workers on it (queues with
        a worker not yet synced are left out): the claims of ours made by then were received
        or lost, none is still on its way."""
        synced: dict[str, datetime | None] = {}
        for worker in self._workers:
            at, earlier = worker.synced, synced.get(worker.name, worker.synced)
            synced[worker.name] = None if at is None or earlier is None else min(at, earlier)
        return {name: at for name, at in synced.items() if at is not None}

    def _me(self) -> WorkerInfo:
        return WorkerInfo(
            id=self.worker_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=self.queue_names(),
            locked=self._notifier is not None and self._notifier.locked,
        )

    async def _lock(self, conn: Conn) -> bool:
        return await self.store.lock_worker(conn, self.worker_id)

    async def _reconnected(self) -> None:
        """After a stall: flush the acks at once and renew the leases of held jobs."""
        for worker in self._workers:
            worker.reconnected()
        await self._heartbeats.run_once()

    def _on_notify(self, queue: str | None) -> None:
        for worker in self._workers:
            if queue is None or worker.name == queue:
                worker.wake()


def _is_async_callable(handler: object) -> bool:
    """An `async def` function, or an object whose `__call__` is one."""
    if inspect.iscoroutinefunction(handler):
        return True
    return callable(handler) and inspect.iscoroutinefunction(type(handler).__call__)  # type: ignore[operator]


def _leases(jobs: JobRef | Sequence[JobRef]) -> list[Lease]:
    items = [jobs] if isinstance(jobs, Job | Lease) else validate.items(jobs, "jobs")
    return [item.lease if isinstance(item, Job) else Lease(*validate.lease(item)) for item in items]
