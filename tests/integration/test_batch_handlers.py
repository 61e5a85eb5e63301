"""Batch handlers (issue 17): one call for up to N jobs or a window's worth, per-job outcomes."""

from __future__ import annotations

import asyncio

import pytest

from fluffymail.queue import BatchResult, InvalidOptionError, Job, JobQueue, JobState, runner
from fluffymail.queue.outcomes import Snooze
from fluffymail.queue.registry import Registry
from tests.helpers import settled, wait_for


async def _states(queue: JobQueue, ids: list[int]) -> dict[int, JobState]:
    return {job_id: (await queue.get_job(job_id)).state for job_id in ids}


async def test_batch__lists_of_up_to_batch_size(queue: JobQueue) -> None:
    await queue.create_queue("q")
    ids = await queue.insert("q", [{"i": i} for i in range(25)])
    sizes: list[int] = []

    async def handle(jobs: list[Job]) -> None:
        sizes.append(len(jobs))

    await queue.work("q", handle, batch_size=10, batch_window=0.5)
    await wait_for(lambda: settled(queue, "q"))
    assert sum(sizes) == 25 and max(sizes) == 10 and len(sizes) >= 3
    assert set((await _states(queue, ids)).values()) == {JobState.COMPLETED}


async def test_batch__the_window_gathers_what_arrives_after_the_first(queue: JobQueue) -> None:
    await queue.create_queue("q")
    batches: list[list[int]] = []

    async def handle(jobs: list[Job]) -> None:
        batches.append(sorted(job.data["i"] for job in jobs))

    await queue.work("q", handle, batch_size=100, batch_window=1.0)
    await queue.send("q", {"i": 0})
    await asyncio.sleep(0.2)
    await queue.insert("q", [{"i": 1}, {"i": 2}])
    await wait_for(lambda: settled(queue, "q"))
    assert batches == [[0, 1, 2]], "one call for the jobs that arrived within the window"
    await queue.send("q", {"i": 3})
    await wait_for(lambda: settled(queue, "q"))
    assert batches[1:] == [[3]], "a job after the call starts a new batch"


async def test_batch__outputs_by_job_id(queue: JobQueue) -> None:
    await queue.create_queue("q")
    ids = await queue.insert("q", [{"i": i} for i in range(3)])

    async def handle(jobs: list[Job]) -> dict[int, object]:
        return {job.id: {"double": job.data["i"] * 2} for job in jobs if job.data["i"]}

    await queue.work("q", handle, batch_size=10, batch_window=0.2)
    await wait_for(lambda: settled(queue, "q"))
    outputs = [(await queue.get_job(job_id)).output for job_id in ids]
    assert outputs == [None, {"double": 2}, {"double": 4}]


async def test_batch__partial_failure_fails_only_the_named_jobs(queue: JobQueue) -> None:
    await queue.create_queue("dead")
    await queue.create_queue("q", retry_limit=0, dead_letter="dead")
    ids = await queue.insert("q", [{"i": i} for i in range(4)])
    bad = ids[1]

    async def handle(jobs: list[Job]) -> BatchResult:
        return BatchResult(
            outputs={jobs[0].id: "ok"},
            failed={bad: "no such address", ids[2]: ValueError("bad data")},
        )

    await queue.work("q", handle, batch_size=10, batch_window=0.2)
    await wait_for(lambda: settled(queue, "q"))
    states = await _states(queue, ids)
    assert states == {
        ids[0]: JobState.COMPLETED,
        bad: JobState.FAILED,
        ids[2]: JobState.FAILED,
        ids[3]: JobState.COMPLETED,
    }
    failed = await queue.get_job(bad)
    assert failed.output["type"] == "BatchItemError"
    assert failed.output["message"] == "no such address"
    assert (await queue.get_job(ids[2])).output["type"] == "ValueError"
    dead = await queue.find_jobs(name="dead")
    assert sorted(job.data["i"] for job in dead) == [1, 2]


async def test_batch__a_failed_job_is_retried_alone_then_dead_lettered(queue: JobQueue) -> None:
    await queue.create_queue("dead")
    await queue.create_queue("q", retry_limit=2, dead_letter="dead")
    ids = await queue.insert("q", [{"i": i} for i in range(3)])
    poison = ids[0]
    seen: list[list[int]] = []

    async def handle(jobs: list[Job]) -> BatchResult:
        seen.append(sorted(job.id for job in jobs))
        return BatchResult(failed={poison: "poison"} if any(j.id == poison for j in jobs) else {})

    await queue.work("q", handle, batch_size=10, batch_window=0.1)
    await wait_for(lambda: settled(queue, "q"))
    assert seen[0] == ids and seen[1:] == [[poison], [poison]], "1 + retry_limit attempts"
    job = await queue.get_job(poison)
    assert (job.state, job.attempt) == (JobState.FAILED, 3)
    assert [j.data for j in await queue.find_jobs(name="dead")] == [{"i": 0}]
    assert set((await _states(queue, ids[1:])).values()) == {JobState.COMPLETED}


async def test_batch__an_exception_fails_the_whole_batch_each_retried(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=1)
    ids = await queue.insert("q", [{"i": i} for i in range(5)])
    calls: list[int] = []
    failed: list[int] = []
    queue.on("retried", lambda job, **_: failed.append(job.id))

    async def handle(jobs: list[Job]) -> None:
        calls.append(len(jobs))
        if len(calls) == 1:
            raise ConnectionError("index down")

    await queue.work("q", handle, batch_size=10, batch_window=0.2)
    await wait_for(lambda: settled(queue, "q"))
    assert calls == [5, 5] and sorted(failed) == ids
    for job_id in ids:
        job = await queue.get_job(job_id)
        assert (job.state, job.retry_count) == (JobState.COMPLETED, 1)


async def test_batch__a_snooze_output_snoozes_that_job(queue: JobQueue) -> None:
    await queue.create_queue("q")
    ids = await queue.insert("q", [{"i": 0}, {"i": 1}])

    async def handle(jobs: list[Job]) -> dict[int, object]:
        return {ids[1]: Snooze(3600)}

    await queue.work("q", handle, batch_size=10, batch_window=0.1)
    await wait_for(lambda: _state_is(queue, ids[0], JobState.COMPLETED))
    await wait_for(lambda: _state_is(queue, ids[1], JobState.RETRY))


async def test_batch__a_wrong_return_type_fails_the_batch(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=0)
    [job_id] = await queue.insert("q", [{}])

    async def handle(jobs: list[Job]) -> list[int]:
        return [1]

    await queue.work("q", handle, batch_size=10, batch_window=0)
    await wait_for(lambda: settled(queue, "q"))
    job = await queue.get_job(job_id)
    assert job.state is JobState.FAILED and job.output["type"] == "TypeError"


@pytest.mark.parametrize(
    "options", [{"batch_window": -1}, {"batch_window": 7200}, {"batch_size": 0, "batch_window": 1}]
)
async def test_batch__bad_options_refused(queue: JobQueue, options: dict) -> None:
    await queue.create_queue("q")

    async def handle(jobs: list[Job]) -> None:
        return None

    with pytest.raises(InvalidOptionError):
        await queue.work("q", handle, **options)


async def _state_is(queue: JobQueue, job_id: int, state: JobState) -> bool:
    return (await queue.get_job(job_id)).state is state


async def test_batch__concurrency_is_batches_at_once(queue: JobQueue) -> None:
    await queue.create_queue("q")
    await queue.insert("q", [{"i": i} for i in range(20)])
    running, most, sizes = 0, 0, []

    async def handle(jobs: list[Job]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        sizes.append(len(jobs))
        await asyncio.sleep(0.05)
        running -= 1

    await queue.work("q", handle, batch_size=5, batch_window=0, concurrency=1)
    await wait_for(lambda: settled(queue, "q"))
    assert most == 1 and sum(sizes) == 20 and max(sizes) <= 5


async def test_batch__expired_jobs_leave_and_the_call_is_cancelled(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=0, expire_in=1)
    ids = await queue.insert("q", [{}, {}])
    cancelled = asyncio.Event()

    async def handle(jobs: list[Job]) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await queue.work("q", handle, batch_size=10, batch_window=0.1)
    await wait_for(lambda: settled(queue, "q"))
    assert set((await _states(queue, ids)).values()) == {JobState.FAILED}
    await asyncio.wait_for(cancelled.wait(), 5)
    assert (await queue.get_job(ids[0])).output["type"] == "JobExpiredError"


async def test_batch__a_registry_entry_with_a_window_runs_as_a_batch(queue: JobQueue) -> None:
    sizes: list[int] = []

    async def handle(jobs: list[Job]) -> None:
        sizes.append(len(jobs))

    registry = Registry()
    registry.register("q", handle, batch_size=50, batch_window=0.2)
    await runner.prepare(queue, registry)
    await queue.insert("q", [{} for _ in range(30)])
    await runner.start_workers(queue, registry, {})
    await wait_for(lambda: settled(queue, "q"))
    assert sizes == [30]
