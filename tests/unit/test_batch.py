"""The batcher without a database: gathering by size and window, leaving, per-job outcomes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from fluffymail.queue import BatchItemError, BatchResult, InvalidOptionError, Job
from fluffymail.queue.batch import Batcher, batch_options
from fluffymail.queue.failures import FailBuffer
from fluffymail.queue.job import Lease

LOG = logging.getLogger("test")


def _jobs(n: int) -> list[Job]:
    return [Job(id=i + 1, name="q", data={"i": i}) for i in range(n)]


def _batcher(handler, size: int = 3, window: float = 0.05, concurrency: int = 1) -> Batcher:
    return Batcher(handler, batch_options(size, window, concurrency), LOG)


async def test_batcher__full_batches_go_at_once_the_rest_after_the_window() -> None:
    calls: list[list[int]] = []

    async def handle(jobs: list[Job]) -> None:
        calls.append([job.id for job in jobs])

    batcher = _batcher(handle, size=3, window=0.05)
    results = await asyncio.gather(*(batcher(job) for job in _jobs(5)))
    assert results == [None] * 5 and calls == [[1, 2, 3], [4, 5]]


async def test_batcher__outputs_and_failures_per_job() -> None:
    async def handle(jobs: list[Job]) -> BatchResult:
        return BatchResult(outputs={1: "one"}, failed={2: "bad", 3: ValueError("worse")})

    batcher = _batcher(handle)
    one, two, three = await asyncio.gather(
        *(batcher(job) for job in _jobs(3)), return_exceptions=True
    )
    assert one == "one"
    assert isinstance(two, BatchItemError) and str(two) == "bad"
    assert isinstance(three, ValueError)


async def test_batcher__a_raise_fails_every_job_with_the_handlers_traceback() -> None:
    async def handle(jobs: list[Job]) -> None:
        raise RuntimeError("down")

    batcher = _batcher(handle, size=50)
    errors = await asyncio.gather(*(batcher(job) for job in _jobs(50)), return_exceptions=True)
    assert all(isinstance(e, RuntimeError) for e in errors)
    depth = 0
    tb = errors[0].__traceback__
    while tb is not None:
        depth, tb = depth + 1, tb.tb_next
    assert depth < 10, "asyncio restores the traceback of set_exception on each raise"


async def test_batcher__when_every_job_leaves_the_call_is_cancelled() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handle(jobs: list[Job]) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    batcher = _batcher(handle, size=2)
    tasks = [asyncio.create_task(batcher(job)) for job in _jobs(2)]
    await started.wait()
    tasks[0].cancel()
    await asyncio.sleep(0.01)
    assert not cancelled.is_set(), "one job still waits for the call"
    tasks[1].cancel()
    await asyncio.wait_for(cancelled.wait(), 1)


async def test_batcher__a_job_leaving_a_gathering_batch_is_not_handed_over() -> None:
    calls: list[list[int]] = []

    async def handle(jobs: list[Job]) -> None:
        calls.append([job.id for job in jobs])

    batcher = _batcher(handle, size=10, window=0.05)
    first, second = (asyncio.create_task(batcher(job)) for job in _jobs(2))
    await asyncio.sleep(0)
    first.cancel()
    await second
    assert calls == [[2]]


@pytest.mark.parametrize(
    ("size", "window", "concurrency"), [(0, 1, 1), (10, -1, 1), (10, 7200, 1), (10, 1, 0)]
)
def test_batch_options__refused(size: int, window: float, concurrency: int) -> None:
    with pytest.raises(InvalidOptionError):
        batch_options(size, window, concurrency)


class _Store:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def fail(self, leases: list[Lease], errors: list[object]) -> list[tuple]:
        self.calls.append([lease.id for lease in leases])
        return [(lease.id, "q", "retry", 1, None) for lease in leases]


async def test_fail_buffer__failures_of_one_turn_are_one_statement() -> None:
    store = _Store()
    buffer = FailBuffer(store)  # type: ignore[arg-type]
    rows = await asyncio.gather(*(buffer.fail(Lease(i, 1), {"e": i}) for i in range(1, 6)))
    assert store.calls == [[1, 2, 3, 4, 5]]
    assert [r[0][0] for r in rows] == [1, 2, 3, 4, 5]
    await buffer.fail(Lease(9, 1), None)
    assert store.calls[-1] == [9]
