"""work(): handlers run concurrently, outputs and errors are recorded, events fire, shutdown drains."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fluffymail.queue import InvalidHandlerError, Job, JobQueue, JobState
from tests.helpers import settled, wait_for


async def test_work__runs_every_job_once_and_records_output(queue: JobQueue, sql) -> None:
    await queue.create_queue("q")
    seen: list[int] = []

    async def handler(job: Job) -> dict[str, Any]:
        seen.append(job.data)
        await asyncio.sleep(0.001)
        return {"double": job.data * 2}

    await queue.insert("q", list(range(300)))
    await queue.work("q", handler, concurrency=10)
    await wait_for(lambda: settled(queue, "q"))
    assert sorted(seen) == list(range(300))
    assert (
        await sql.one(
            "SELECT count(*) FROM queue.job WHERE output->>'double' = (data::int * 2)::text"
        )
        == 300
    )


async def test_work__wakes_on_notify_for_new_jobs(make_queue) -> None:
    queue = make_queue(poll_interval=30)  # only NOTIFY can wake it in time
    await queue.create_queue("q")
    done = asyncio.Event()

    async def handler(job: Job) -> None:
        done.set()

    await queue.work("q", handler)
    await asyncio.sleep(0.1)
    await queue.send("q", {})
    await asyncio.wait_for(done.wait(), 5)


async def test_work__concurrency_limit_is_respected(queue: JobQueue) -> None:
    await queue.create_queue("q")
    running, peak = 0, 0

    async def handler(job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    await queue.insert("q", list(range(40)))
    await queue.work("q", handler, concurrency=4)
    await wait_for(lambda: settled(queue, "q"))
    assert peak == 4


async def test_work__a_raising_handler_is_retried_and_never_kills_the_worker(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q", retry_limit=1)
    events: list[tuple[str, int]] = []
    queue.on("retried", lambda job, **_: events.append(("retried", job.id)))
    queue.on("failed", lambda job, error, **_: events.append(("failed", job.id)))
    queue.on("completed", lambda job, **_: events.append(("completed", job.id)))

    async def handler(job: Job) -> str:
        if job.data == "bad":
            raise KeyError("missing thing")
        return "fine"

    bad = await queue.send("q", "bad")
    await queue.work("q", handler, concurrency=2)
    await wait_for(lambda: settled(queue, "q"))
    good = await queue.send("q", "good")
    await wait_for(lambda: settled(queue, "q"))
    assert (
        ("retried", bad) in events and ("failed", bad) in events and ("completed", good) in events
    )
    error = (await queue.get_job(bad)).output
    assert (
        error["type"] == "KeyError"
        and "missing thing" in error["message"]
        and "Traceback" in error["traceback"]
    )


async def test_work__completed_event_carries_duration(queue: JobQueue) -> None:
    await queue.create_queue("q")
    durations: list[float] = []
    queue.on("completed", lambda job, output, duration: durations.append(duration))

    async def handler(job: Job) -> None:
        await asyncio.sleep(0.05)

    await queue.send("q", {})
    await queue.work("q", handler)
    await wait_for(lambda: settled(queue, "q"))
    await asyncio.sleep(0.05)
    assert len(durations) == 1 and durations[0] >= 0.04


async def test_work__expire_in_stops_a_hung_handler(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=0, expire_in=1)

    async def handler(job: Job) -> None:
        await asyncio.sleep(60)

    job_id = await queue.send("q", {})
    await queue.work("q", handler)
    await wait_for(lambda: settled(queue, "q"))
    job = await queue.get_job(job_id)
    assert job.state is JobState.FAILED and job.output["type"] == "JobExpiredError"


async def test_work__unencodable_output_fails_only_that_job(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=0)

    async def handler(job: Job) -> object:
        return object() if job.data == "odd" else "ok"

    odd, ok = await queue.insert("q", ["odd", "ok"])
    await queue.work("q", handler, concurrency=2)
    await wait_for(lambda: settled(queue, "q"))
    assert (await queue.get_job(odd)).state is JobState.FAILED
    assert (await queue.get_job(ok)).state is JobState.COMPLETED


async def test_work__lost_lease_cancels_the_running_handler(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", heartbeat_seconds=1)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handler(job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    job_id = await queue.send("q", {})
    await queue.work("q", handler)
    await asyncio.wait_for(started.wait(), 5)
    await queue.cancel(job_id)
    await asyncio.wait_for(cancelled.wait(), 5)
    assert (await queue.get_job(job_id)).state is JobState.CANCELLED


async def test_stop__releases_unfinished_jobs_without_spending_a_retry(queue: JobQueue) -> None:
    await queue.create_queue("q")
    started = asyncio.Event()

    async def slow(job: Job) -> None:
        started.set()
        await asyncio.sleep(60)

    job_id = await queue.send("q", {})
    await queue.work("q", slow)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(queue.stop(grace=0.2), 5)
    job = await queue.get_job(job_id)
    assert job.state is JobState.RETRY and job.retry_count == 0


async def test_stop__lets_quick_jobs_finish_within_grace(queue: JobQueue) -> None:
    await queue.create_queue("q")
    started = asyncio.Event()

    async def quick(job: Job) -> str:
        started.set()
        await asyncio.sleep(0.2)
        return "done"

    job_id = await queue.send("q", {})
    await queue.work("q", quick)
    await asyncio.wait_for(started.wait(), 5)
    await queue.stop(grace=5)
    assert (await queue.get_job(job_id)).state is JobState.COMPLETED


async def test_work__handler_must_be_a_coroutine_function(queue: JobQueue) -> None:
    await queue.create_queue("q")

    def sync_handler(job: Job) -> None: ...

    with pytest.raises(InvalidHandlerError, match="must be an async def function"):
        await queue.work("q", sync_handler)  # type: ignore[arg-type]


async def test_policy_singleton__worker_never_runs_two_of_a_key_at_once(queue: JobQueue) -> None:
    await queue.create_queue("s", policy="singleton")
    running: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def handler(job: Job) -> None:
        key = job.singleton_key
        running[key] = running.get(key, 0) + 1
        peak[key] = max(peak.get(key, 0), running[key])
        await asyncio.sleep(0.01)
        running[key] -= 1

    await queue.insert_many("s", [{"data": i, "singleton_key": f"k{i % 3}"} for i in range(30)])
    await queue.work("s", handler, concurrency=10)
    await wait_for(lambda: settled(queue, "s"))
    assert peak == {"k0": 1, "k1": 1, "k2": 1}


async def test_stop__mid_burst_leaves_no_job_claimed(queue: JobQueue, sql) -> None:
    """Jobs claimed ahead (prefetch) or by a round trip in flight at stop() go back to the queue."""
    await queue.create_queue("q")
    await queue.insert("q", list(range(5000)))
    started = asyncio.Event()

    async def handler(job: Job) -> None:
        started.set()

    await queue.work("q", handler, concurrency=10)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(queue.stop(grace=1), 10)
    assert await sql.one("SELECT count(*) FROM queue.job WHERE state = 'active'") == 0
    done = await sql.one("SELECT count(*) FROM queue.job WHERE state = 'completed'")
    assert await sql.one("SELECT count(*) FROM queue.job WHERE state < 'active'") == 5000 - done
