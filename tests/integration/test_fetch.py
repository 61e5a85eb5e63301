"""Claiming and settling jobs by hand: order, delays, retries, backoff, dead letters, fencing."""

from __future__ import annotations

from datetime import timedelta

from fluffymail.queue import JobQueue, JobState, Lease


async def test_fetch__higher_priority_first_then_fifo(queue: JobQueue) -> None:
    await queue.create_queue("q")
    low = await queue.send("q", "low", priority=0)
    high = await queue.send("q", "high", priority=10)
    low2 = await queue.send("q", "low2", priority=0)
    assert [j.id for j in await queue.fetch("q", 3)] == [high, low, low2]


async def test_fetch__skips_jobs_not_yet_due(queue: JobQueue, sql) -> None:
    await queue.create_queue("q")
    job_id = await queue.send("q", {}, start_after="1 hour")
    assert await queue.fetch("q") == []
    assert (await queue.get_queue_stats("q"))["deferred"] == 1
    await sql.execute(
        "UPDATE queue.job SET start_after = now() - interval '1 second' WHERE id = %s", job_id
    )
    assert [j.id for j in await queue.fetch("q")] == [job_id]


async def test_fetch__each_job_claimed_once_and_lease_bumped(queue: JobQueue) -> None:
    await queue.create_queue("q")
    await queue.insert("q", list(range(10)))
    first, second = await queue.fetch("q", 6), await queue.fetch("q", 6)
    assert len(first) == 6 and len(second) == 4
    assert not {j.id for j in first} & {j.id for j in second}
    assert all(j.attempt == 1 for j in first + second)


async def test_complete__records_output(queue: JobQueue) -> None:
    await queue.create_queue("q")
    await queue.send("q", {})
    [job] = await queue.fetch("q")
    assert await queue.complete(job, {"ok": True}) == [job.id]
    stored = await queue.get_job(job.id)
    assert stored.state is JobState.COMPLETED and stored.output == {"ok": True}


async def test_fail__retries_then_fails_then_dead_letters(queue: JobQueue, sql) -> None:
    await queue.create_queue("dead")
    await queue.create_queue("q", retry_limit=2, dead_letter="dead")
    job_id = await queue.send("q", {"payload": 1})
    for expected in ("retry", "retry", "failed"):
        [job] = await queue.fetch("q")
        await queue.fail(job, ValueError("nope"))
        assert await sql.one("SELECT state::text FROM queue.job WHERE id = %s", job_id) == expected
    stored = await queue.get_job(job_id)
    assert stored.retry_count == 3 and stored.output["type"] == "ValueError"
    [dead] = await queue.fetch("dead")
    assert dead.data == {"payload": 1}
    assert (await queue.get_job(dead.id)).source_id == job_id


async def test_retry_delay__exponential_backoff_grows_and_is_capped(queue: JobQueue, sql) -> None:
    await queue.create_queue(
        "q", retry_limit=10, retry_delay=10, retry_backoff=True, retry_delay_max=50
    )
    job_id = await queue.send("q", {})
    delays = []
    for _ in range(5):
        await sql.execute("UPDATE queue.job SET start_after = now() WHERE id = %s", job_id)
        [job] = await queue.fetch("q")
        await queue.fail(job, "x")
        delays.append(
            await sql.one(
                "SELECT extract(epoch FROM start_after - now()) FROM queue.job WHERE id = %s",
                job_id,
            )
        )
    bounds = [
        (5, 10),
        (10, 20),
        (20, 40),
        (25, 50),
        (25, 50),
    ]  # base 10·2^n with equal jitter, capped at 50
    for delay, (low, high) in zip(delays, bounds, strict=True):
        assert low - 0.5 <= float(delay) <= high + 0.5


async def test_retry_delay__fixed_without_backoff(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", retry_limit=3, retry_delay=7)
    job_id = await queue.send("q", {})
    [job] = await queue.fetch("q")
    await queue.fail(job, "x")
    delay = await sql.one(
        "SELECT extract(epoch FROM start_after - now()) FROM queue.job WHERE id = %s", job_id
    )
    assert 6.5 <= float(delay) <= 7.5


async def test_fencing__stale_attempt_cannot_complete_or_fail(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", retry_limit=1)
    job_id = await queue.send("q", {})
    [stale] = await queue.fetch("q")
    # The worker goes silent: its heartbeat lapses and the rescuer hands the job to another.
    await sql.execute(
        "UPDATE queue.job SET started_on = now() - interval '10 minutes' WHERE id = %s", job_id
    )
    assert await queue.rescue() == 1
    [fresh] = await queue.fetch("q")
    assert fresh.attempt == stale.attempt + 1
    assert await queue.complete(stale, "late") == []
    assert await queue.fail(stale, "late") == []
    assert await queue.complete(Lease(job_id, stale.attempt)) == []
    assert await queue.complete(fresh, "fresh") == [job_id]
    assert (await queue.get_job(job_id)).output == "fresh"


async def test_expiry__running_past_expire_in_is_failed_by_the_rescuer(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q", retry_limit=0, expire_in=60)
    job_id = await queue.send("q", {})
    [_job] = await queue.fetch("q")
    await sql.execute(
        "UPDATE queue.job SET started_on = now() - interval '2 minutes', heartbeat_on = now() WHERE id = %s",
        job_id,
    )
    assert await queue.rescue() == 1
    stored = await queue.get_job(job_id)
    assert stored.state is JobState.FAILED and stored.output["type"] == "JobExpired"


async def test_heartbeat__keeps_a_long_job_from_being_rescued(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", heartbeat_seconds=30)
    job_id = await queue.send("q", {})
    [job] = await queue.fetch("q")
    await sql.execute(
        "UPDATE queue.job SET started_on = now() - interval '5 minutes' WHERE id = %s", job_id
    )
    assert await queue.store.heartbeat([job.lease]) == {job_id}
    assert await queue.rescue() == 0


async def test_cancel_resume_retry(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=0)
    a, b = await queue.insert("q", ["a", "b"])
    assert await queue.cancel(a) == [a]
    assert (await queue.get_job(a)).state is JobState.CANCELLED
    assert [j.id for j in await queue.fetch("q", 5)] == [b]
    assert await queue.resume([a]) == [a]
    [job] = await queue.fetch("q")
    await queue.fail(job, "boom")
    assert (await queue.get_job(a)).state is JobState.FAILED
    assert await queue.retry(a) == [a]
    assert [j.id for j in await queue.fetch("q")] == [a]


async def test_cancel__running_attempt_loses_its_lease(queue: JobQueue) -> None:
    await queue.create_queue("q")
    await queue.send("q", {})
    [job] = await queue.fetch("q")
    await queue.cancel(job.id)
    assert await queue.complete(job) == []
    assert (await queue.get_job(job.id)).state is JobState.CANCELLED


async def test_delete_job(queue: JobQueue) -> None:
    await queue.create_queue("q")
    job_id = await queue.send("q", {})
    assert await queue.delete_job(job_id) == [job_id]
    assert await queue.get_job(job_id) is None


async def test_policy_singleton__one_active_per_key(queue: JobQueue) -> None:
    await queue.create_queue("s", policy="singleton")
    await queue.insert_many("s", [{"data": i, "singleton_key": key} for i, key in enumerate("aab")])
    first = await queue.fetch("s", 10)
    assert sorted(j.singleton_key for j in first) == ["a", "b"]
    assert await queue.fetch("s", 10) == []
    await queue.complete([j for j in first if j.singleton_key == "a"])
    [second] = await queue.fetch("s", 10)
    assert second.singleton_key == "a"


async def test_policy_stately__one_queued_and_one_active(queue: JobQueue) -> None:
    await queue.create_queue("st", policy="stately")
    assert await queue.send("st", 1) is not None
    assert await queue.send("st", 2) is None, "one queued already"
    [job] = await queue.fetch("st")
    assert await queue.send("st", 3) is not None, "one active + one queued allowed"
    assert await queue.send("st", 4) is None
    assert await queue.fetch("st") == [], "the queued one waits for the active one"
    await queue.complete(job)
    assert len(await queue.fetch("st")) == 1


async def test_get_queue_stats__counts_by_state(queue: JobQueue) -> None:
    await queue.create_queue("q")
    await queue.insert("q", [1, 2, 3])
    await queue.send("q", 4, start_after=timedelta(hours=1))
    [job] = await queue.fetch("q")
    await queue.complete(job)
    stats = await queue.get_queue_stats("q")
    assert (stats["created"], stats["deferred"], stats["completed"]) == (2, 1, 1)
