"""A failed attempt whose retry would collide with a job queued under the same key (0044): it
fails for good, names the job that carries its work, and nothing else is held up."""

from __future__ import annotations

from fluffymail.queue import JobQueue


async def test_stately__a_failure_while_another_waits_to_retry_fails_for_good(
    queue: JobQueue,
) -> None:
    await queue.create_queue("st", policy="stately", retry_limit=3, retry_delay=3600)
    first = await queue.send("st", {"n": 1}, singleton_key="user-1")
    [a] = await queue.fetch("st")
    assert await queue.fail(a, ValueError("deadlock")) == [first]  # waits an hour to retry
    second = await queue.send("st", {"n": 2}, singleton_key="user-1")
    [b] = await queue.fetch("st")  # the retry is not due: the newer one runs meanwhile
    assert b.id == second

    assert await queue.fail(b, ValueError("deadlock again")) == [second]  # raised before

    failed, waiting = await queue.get_job(second), await queue.get_job(first)
    assert failed is not None and waiting is not None
    assert (failed.state, waiting.state) == ("failed", "retry")
    assert failed.output["message"] == "deadlock again"
    assert failed.output["not_retried"] == f"job {first}, queued with the same key, does this work"


async def test_standard_singleton__a_failure_while_the_key_is_queued_fails_for_good(
    queue: JobQueue,
) -> None:
    await queue.create_queue("sd", retry_limit=3, retry_delay=3600)
    first = await queue.send("sd", {"n": 1}, singleton_key="k")
    [a] = await queue.fetch("sd")
    second = await queue.send("sd", {"n": 2}, singleton_key="k")  # queued beside the active one
    assert second is not None

    assert await queue.fail(a, ValueError("boom")) == [first]

    failed, queued = await queue.get_job(first), await queue.get_job(second)
    assert failed is not None and queued is not None
    assert (failed.state, queued.state) == ("failed", "created")
    assert failed.output["not_retried"] == f"job {second}, queued with the same key, does this work"
    [b] = await queue.fetch("sd")
    assert b.id == second


async def test_retry__still_taken_when_nothing_else_waits_under_the_key(queue: JobQueue) -> None:
    await queue.create_queue("st2", policy="stately", retry_limit=3, retry_delay=3600)
    first = await queue.send("st2", {"n": 1}, singleton_key="user-1")
    await queue.send("st2", {"n": 1}, singleton_key="user-2")
    jobs = await queue.fetch("st2", 2)
    assert await queue.fail(jobs, ValueError("boom")) == sorted(j.id for j in jobs)
    states = {(await queue.get_job(j.id)).state for j in jobs}  # type: ignore[union-attr]
    assert states == {"retry"} and first in {j.id for j in jobs}


async def test_stately__a_snooze_beside_a_job_waiting_to_retry_waits_as_created(
    queue: JobQueue,
) -> None:
    """A stately job that snoozes (or a workflow run that parks on a step) while another job of
    its key waits to retry cannot take that slot: it waits as created, and runs once due."""
    await queue.create_queue("sz", policy="stately", retry_limit=3)
    first = await queue.send("sz", {"n": 1}, singleton_key="connection-1")
    [a] = await queue.fetch("sz")
    assert await queue.store.snooze([a.lease], [3600]) == [first]
    second = await queue.send("sz", {"n": 2}, singleton_key="connection-1")
    [b] = await queue.fetch("sz")
    assert b.id == second

    assert await queue.store.snooze([b.lease], [0]) == [second]  # raised before

    waiting, parked = await queue.get_job(first), await queue.get_job(second)
    assert waiting is not None and parked is not None
    assert (waiting.state, parked.state) == ("retry", "created")
    [again] = await queue.fetch("sz")
    assert (again.id, again.retry_count) == (second, 0)
