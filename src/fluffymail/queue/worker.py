"""One queue's worker: claims jobs, runs up to `concurrency` handlers, acknowledges results.

A single pump task does all database work: each round trip acknowledges the attempts that
finished since the last one *and* claims as many jobs as there are free slots. It sleeps
until a handler finishes, a NOTIFY arrives, or the poll interval passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fluffymail.logging import bind
from fluffymail.queue.errors import JobExpiredError
from fluffymail.queue.events import Events
from fluffymail.queue.job import Job, Lease
from fluffymail.queue.outcomes import Snooze
from fluffymail.queue.store import Store

Handler = Callable[[Job], Awaitable[Any]]


def describe_error(exc: BaseException) -> dict[str, Any]:
    """What is stored as a failed attempt's output: type, message and traceback."""
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc))[-8000:],
    }


@dataclass(slots=True)
class Running:
    job: Job
    task: asyncio.Task[None]
    started: float
    last_beat: float = field(default=0.0)


class Worker:
    """Runs `handler` for jobs of queue `name`; see the module docstring for the loop."""

    def __init__(
        self,
        store: Store,
        name: str,
        handler: Handler,
        *,
        concurrency: int,
        batch_size: int,
        fetch_query: str,
        poll_interval: float,
        worker_id: str,
        events: Events,
        log: logging.Logger,
    ) -> None:
        self.store, self.name, self.handler = store, name, handler
        self.concurrency, self.batch_size, self.fetch_query = concurrency, batch_size, fetch_query
        self.poll_interval, self.worker_id, self.events, self.log = (
            poll_interval,
            worker_id,
            events,
            log,
        )
        self.running: dict[int, Running] = {}
        self._acks: list[tuple[Job, Any, float]] = []
        self._signal = asyncio.Event()
        self._wanted = True
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"queue.worker:{self.name}")

    def wake(self) -> None:
        self._wanted = True
        self._signal.set()

    async def stop(self, grace: float) -> list[Lease]:
        """Stop claiming, give running jobs `grace` seconds, then cancel the rest.

        Returns the leases of the jobs that did not finish, for the caller to release.
        """
        self._stopping = True
        self._signal.set()
        snapshot = list(self.running.values())
        if snapshot:
            await asyncio.wait([r.task for r in snapshot], timeout=grace)
        unfinished = [r for r in snapshot if not r.task.done()]
        for running in unfinished:
            running.task.cancel()
        await asyncio.gather(*(r.task for r in unfinished), return_exceptions=True)
        if self._task is not None:
            await self._task
        return [r.job.lease for r in unfinished]

    # -- the pump ---------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            try:
                await self._pump()
                backoff = 0.0
            except Exception as exc:
                backoff = min(max(backoff * 2, 0.2), 5.0)
                self.log.warning(
                    "fetch failed; retrying",
                    extra={"action": "queue.fetch_error", "queue": self.name, "error": repr(exc)},
                )
                self.events.emit("error", error=exc, queue=self.name)
                await asyncio.sleep(backoff)
                continue
            if self._stopping and not self.running and not self._acks:
                return
            await self._wait()

    async def _pump(self) -> None:
        acks = self._acks
        demand = (
            0
            if self._stopping or not self._wanted
            else min(self.batch_size, self.concurrency - len(self.running))
        )
        if not acks and demand <= 0:
            return
        self._acks = []
        try:
            fetched = await self.store.fetch(
                self.name,
                demand,
                self.worker_id,
                query=self.fetch_query,
                acks=[job.lease for job, _, _ in acks],
                outputs=[out for _, out, _ in acks],
            )
        except BaseException:
            self._acks = (
                acks + self._acks
            )  # keep them: they are acknowledged on the next round trip
            raise
        self._report(acks, set(fetched.acked))
        for job in fetched.jobs:
            self._spawn(job)
        if demand and len(fetched.jobs) < demand:
            self._wanted = False  # the queue is drained; wait for NOTIFY or the next poll

    async def _wait(self) -> None:
        if self._signal.is_set():
            self._signal.clear()
            return
        try:
            await asyncio.wait_for(self._signal.wait(), self.poll_interval)
        except TimeoutError:
            self._wanted = True
        self._signal.clear()

    def _report(self, acks: list[tuple[Job, Any, float]], acked: set[int]) -> None:
        for job, output, duration in acks:
            if job.id in acked:
                self.events.emit("completed", job=job, output=output, duration=duration)
            else:
                self.log.warning(
                    "completion refused: the attempt's lease is no longer current",
                    extra={"action": "queue.stale_ack", "job_id": job.id, "attempt": job.attempt},
                )

    # -- running one job --------------------------------------------------------------------

    def _spawn(self, job: Job) -> None:
        now = time.monotonic()
        task = asyncio.create_task(self._execute(job, now), name=f"job:{job.id}")
        self.running[job.id] = Running(job=job, task=task, started=now, last_beat=now)

    async def _execute(self, job: Job, started: float) -> None:
        with bind(job_id=job.id, queue=job.name, attempt=job.attempt):
            try:
                output = await self._call(job)
                if isinstance(output, Snooze):
                    raise output
            except Snooze as snooze:
                await self._snooze(job, snooze)
            except Exception as exc:
                await self._fail(job, exc, time.monotonic() - started)
            else:
                self._acks.append((job, output, time.monotonic() - started))
            finally:
                self.running.pop(job.id, None)
                self._signal.set()

    async def _call(self, job: Job) -> Any:
        try:
            async with asyncio.timeout(job.expire_seconds):
                output = await self.handler(job)
        except TimeoutError as exc:
            raise JobExpiredError(f"job ran past its expiry of {job.expire_seconds}s") from exc
        if output is not None and not isinstance(output, Snooze):
            json.dumps(output)  # an unencodable output fails this attempt, not the whole batch
        return output

    async def _snooze(self, job: Job, snooze: Snooze) -> None:
        try:
            await self.store.snooze([job.lease], [snooze.seconds], pause_group=snooze.pause_group)
        except Exception as db_exc:
            self.log.error("could not snooze", extra={"action": "queue.snooze_error", "error": repr(db_exc)})
            return
        self.events.emit("snoozed", job=job, seconds=snooze.seconds)

    async def _fail(self, job: Job, exc: Exception, duration: float) -> None:
        error = describe_error(exc)
        self.log.warning(
            "job failed",
            extra={"action": "queue.job_failed", "error": f"{error['type']}: {error['message']}"},
        )
        try:
            rows = await self.store.fail([job.lease], [error])
        except Exception as db_exc:
            # The attempt stays active; the rescuer fails it once its heartbeat lapses.
            self.log.error(
                "could not record failure",
                extra={"action": "queue.fail_error", "error": repr(db_exc)},
            )
            return
        for _id, _name, state, _retries, dead_letter_id in rows:
            event = "retried" if state == "retry" else "failed"
            self.events.emit(
                event, job=job, error=error, duration=duration, dead_letter_id=dead_letter_id
            )
