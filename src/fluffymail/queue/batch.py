"""Batch handlers: one call for a list of jobs, for the work that is cheaper together.

`await queue.work("index", handle, batch_size=100, batch_window=2.0)` with
`async def handle(jobs: list[Job]) -> None | dict[int, Any] | BatchResult`: the handler gets
up to `batch_size` jobs, or whatever was claimed within `batch_window` seconds after the first
of them. Returning None completes every job; a dict completes each job with its output (a
`Snooze` as an output snoozes that job); a `BatchResult` also fails the jobs in its `failed`
(each retried per its own retry policy, then dead-lettered); raising fails them all.
`concurrency` is how many batches may run at once.

The worker stays the one of single jobs (`worker.py`): each job of a batch holds a slot, with
its own lease, heartbeat and expiry, and is acknowledged by the worker's batched round trips;
it waits here, in `Batcher.__call__`, for its share of the batch's result. A job whose wait is
cut short (expired, lease lost, shutdown) leaves the batch; when all have left, the handler
call is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fluffymail.queue import validate
from fluffymail.queue.errors import InvalidOptionError
from fluffymail.queue.job import Job
from fluffymail.queue.options import parse_duration
from fluffymail.queue.store import MAX_CLAIM

BatchHandler = Callable[[list[Job]], Awaitable[Any]]
DEFAULT_SIZE = 100
MAX_WINDOW = 3600.0  # seconds; the jobs of a gathering batch hold their slots meanwhile


class BatchItemError(Exception):
    """The batch handler failed this job of the batch."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch handler may return: per job id, an output, or a failure (an exception or a
    message) that fails that job alone. Jobs in neither complete with no output."""

    outputs: Mapping[int, Any] = field(default_factory=dict)
    failed: Mapping[int, BaseException | str] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Batch:
    """Jobs gathered for one handler call, each with the future its waiting slot awaits."""

    futures: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchOptions:
    """How a batch worker gathers: at most `size` jobs, `window` seconds after the first."""

    size: int
    window: float
    concurrency: int  # batches at once

    @property
    def slots(self) -> int:
        return self.size * self.concurrency


def batch_options(size: int | None, window: Any, concurrency: int) -> BatchOptions:
    """`window`: seconds (or any duration form of `options.py`), 0 for what one claim brings."""
    seconds = parse_duration(window, "batch_window")
    if seconds > MAX_WINDOW:
        raise InvalidOptionError(f"batch_window must be at most {MAX_WINDOW}s, got {window!r}")
    return BatchOptions(
        size=validate.integer(DEFAULT_SIZE if size is None else size, "batch_size", 1, MAX_CLAIM),
        window=seconds,
        concurrency=validate.integer(concurrency, "concurrency", 1),
    )


class Batcher:
    """The per-job handler the worker runs: gathers jobs into batches for `handler`."""

    def __init__(self, handler: BatchHandler, options: BatchOptions, log: logging.Logger) -> None:
        self.handler, self.options, self.log = handler, options, log
        self._open: _Batch | None = None
        self._running = asyncio.Semaphore(options.concurrency)  # closed batches wait here
        self.calls = 0  # handler calls made (tests, benchmarks)

    async def __call__(self, job: Job) -> Any:
        batch = self._join(job)
        try:
            return await asyncio.shield(batch.futures[job.id])
        except asyncio.CancelledError:
            self._leave(batch, job.id)
            raise

    def _join(self, job: Job) -> _Batch:
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            loop = asyncio.get_running_loop()
            batch.timer = loop.call_later(self.options.window, self._flush, batch)
        batch.jobs[job.id] = job
        batch.futures[job.id] = asyncio.get_running_loop().create_future()
        if len(batch.jobs) >= self.options.size:
            self._flush(batch)
        return batch

    def _leave(self, batch: _Batch, job_id: int) -> None:
        """A waiting job was cancelled: take it out (and the whole call once none is left)."""
        batch.jobs.pop(job_id, None)
        future = batch.futures.pop(job_id, None)
        if future is not None:
            future.cancel()
        if batch.jobs:
            return
        if batch is self._open:
            self._close(batch)
        elif batch.task is not None:
            batch.task.cancel()

    def _close(self, batch: _Batch) -> None:
        if batch.timer is not None:
            batch.timer.cancel()
        if self._open is batch:
            self._open = None

    def _flush(self, batch: _Batch) -> None:
        self._close(batch)
        if batch.jobs and batch.task is None:
            batch.task = asyncio.create_task(self._run(batch), name="queue.batch")

    async def _run(self, batch: _Batch) -> None:
        async with self._running:
            if not batch.jobs:
                return
            self.calls += 1
            try:
                result = await self.handler(list(batch.jobs.values()))
                outputs, failed = self._split(result, batch)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # every job of the batch left it
                error = RuntimeError("the batch handler was cancelled")
                outputs, failed = {}, dict.fromkeys(batch.jobs, error)
            except Exception as exc:
                outputs, failed = {}, dict.fromkeys(batch.jobs, exc)
        for job_id, future in list(batch.futures.items()):
            if future.done():
                continue
            if job_id in failed:
                future.set_exception(_error(failed[job_id]))
            else:
                future.set_result(outputs.get(job_id))

    def _split(
        self, result: Any, batch: _Batch
    ) -> tuple[Mapping[int, Any], Mapping[int, BaseException | str]]:
        if result is None:
            return {}, {}
        if isinstance(result, BatchResult):
            outputs, failed = result.outputs, result.failed
        elif isinstance(result, Mapping):
            outputs, failed = result, {}
        else:
            raise TypeError(
                "a batch handler returns None, a dict of job id -> output or a BatchResult, "
                f"got {type(result).__name__}"
            )
        unknown = (set(outputs) | set(failed)) - set(batch.jobs)
        if unknown:
            self.log.warning(
                "batch result names jobs not in the batch",
                extra={"action": "queue.batch_unknown_ids", "ids": sorted(unknown)[:20]},
            )
        return outputs, failed


def _error(failure: BaseException | str) -> BaseException:
    return failure if isinstance(failure, BaseException) else BatchItemError(str(failure))
