"""`work(..., only=[ids])`: a process that runs the jobs it is given and no others."""

from __future__ import annotations

import pytest

from fluffymail.queue import InvalidOptionError, Job, JobQueue, JobState
from tests.helpers import wait_for


async def test_only__takes_its_job_at_once_and_leaves_the_others(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", policy="stately")
    mine = await queue.send("q", {"n": 1}, start_after="1 hour", singleton_key="a")
    other = await queue.send("q", {"n": 2}, singleton_key="b")
    ran: list[int] = []

    async def handle(job: Job) -> int:
        ran.append(job.data["n"])
        return job.data["n"]

    await queue.work("q", handle, only=[mine])
    await wait_for(lambda: _state(queue, mine, JobState.COMPLETED))
    assert ran == [1]
    assert (await queue.get_job(other)).state == JobState.CREATED  # left to other workers


async def test_only__a_job_waiting_to_retry_is_taken_once_due(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", policy="stately")
    mine = await queue.send("q", {"n": 1}, singleton_key="a")
    await sql.execute(
        "UPDATE queue.job SET state = 'retry', start_after = now() + interval '1 hour'"
        " WHERE id = %s",
        mine,
    )
    seen: list[int] = []

    async def handle(job: Job) -> None:
        seen.append(job.id)

    worker = await queue.work("q", handle, only=[mine])
    rounds = worker.rounds
    await wait_for(lambda: _true(worker.rounds > rounds + 1))  # it looked, and left it
    assert seen == []
    await sql.execute("UPDATE queue.job SET start_after = now() WHERE id = %s", mine)
    await wait_for(lambda: _state(queue, mine, JobState.COMPLETED))
    assert seen == [mine]


async def test_only__refused_on_a_fair_queue(queue: JobQueue) -> None:
    await queue.create_queue("f", fair=True)

    async def handle(job: Job) -> None:
        return None

    with pytest.raises(InvalidOptionError, match="fair"):
        await queue.work("f", handle, only=[1])


async def _state(queue: JobQueue, job_id: int, state: JobState) -> bool:
    job = await queue.get_job(job_id)
    return job is not None and job.state == state


async def _true(value: bool) -> bool:
    return value
