"""Flow control: snooze, pauses (queue and group key), fairness across keys, per-key limits."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from fluffymail.queue import Job, JobQueue, JobState
from fluffymail.queue.outcomes import Snooze
from tests.helpers import settled, wait_for


async def test_snooze__reruns_later_without_spending_an_attempt(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", retry_limit=0)
    calls = 0

    async def handler(job: Job) -> object:
        nonlocal calls
        calls += 1
        return Snooze(3600) if calls == 1 else "done"

    job_id = await queue.send("q", {})
    await queue.work("q", handler)
    await wait_for(lambda: _state_is(sql, job_id, "retry"))
    job = await queue.get_job(job_id)
    assert job.retry_count == 0, "a snooze is not a failure"
    await sql.execute("UPDATE queue.job SET start_after = now() WHERE id = %s", job_id)
    await wait_for(lambda: _state_is(sql, job_id, "completed"))
    outcomes = [a["outcome"] for a in await queue.get_attempts(job_id)]
    assert outcomes == ["snoozed", "completed"]


async def _state_is(sql, job_id: int, state: str) -> bool:
    return await sql.one("SELECT state::text FROM queue.job WHERE id = %s", job_id) == state


async def test_snooze__raised_with_pause_group_pauses_the_whole_key(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", fair=True)
    first = await queue.send("q", 1, group_key="provider-a")
    await queue.send("q", 2, group_key="provider-a")
    other = await queue.send("q", 3, group_key="provider-b")
    [job, _] = [j for j in await queue.fetch("q", 1)] + [None]
    assert job.id == first
    await queue.store.snooze([job.lease], [60], pause_group=True)
    assert [j.id for j in await queue.fetch("q", 10)] == [other], (
        "provider-a waits out its Retry-After"
    )
    await sql.execute(
        "UPDATE queue.job_group SET paused_until = now() WHERE group_key = 'provider-a'"
    )
    await sql.execute("UPDATE queue.job SET start_after = now()")
    assert len(await queue.fetch("q", 10)) == 2


async def test_snooze__raised_with_pause_queue_pauses_every_group_for_every_worker(
    queue: JobQueue, sql
) -> None:
    """A rate limit shared by the whole queue (one API key for all users): one 429 stops all."""
    await queue.create_queue("q", fair=True)
    first = await queue.send("q", "a", group_key="user-a")
    others = [await queue.send("q", n, group_key=f"user-{n}") for n in "bc"]
    calls: list[int] = []

    async def handler(job: Job) -> object:
        calls.append(job.id)
        return Snooze(3600, pause_queue=True) if job.id == first else "done"

    await queue.work("q", handler)
    await wait_for(lambda: _state_is(sql, first, "retry"))
    assert await queue.fetch("q", 10) == [], "every group waits, not only the one that hit it"
    assert calls == [first]

    await queue.resume_queue("q")  # an operator's resume lifts the timed pause too
    for job_id in others:
        await wait_for(lambda job_id=job_id: _state_is(sql, job_id, "completed"))


async def test_pause_queue__for_seconds_ends_by_itself_and_never_shortens(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q")
    await queue.send("q", {})
    await queue.pause_queue("q", 3600)
    await queue.pause_queue("q", 1)  # a shorter pause keeps the longer one
    assert await queue.fetch("q") == []
    assert await sql.one(
        "SELECT paused_until > now() + interval '59 minutes' FROM queue.queue WHERE name = 'q'"
    )
    await sql.execute("UPDATE queue.queue SET paused_until = now() WHERE name = 'q'")  # time passes
    assert len(await queue.fetch("q")) == 1
    with pytest.raises(ValueError, match="above 0"):
        await queue.pause_queue("q", 0)


async def test_pause_queue__stops_claims_until_resumed(queue: JobQueue) -> None:
    await queue.create_queue("q")
    await queue.send("q", {})
    await queue.pause_queue("q")
    assert await queue.fetch("q") == []
    await queue.resume_queue("q")
    assert len(await queue.fetch("q")) == 1


async def test_redrive__dead_letters_go_back_to_their_source(queue: JobQueue) -> None:
    await queue.create_queue("dead")
    await queue.create_queue("q", retry_limit=0, dead_letter="dead")
    await queue.insert("q", [{"n": 1}, {"n": 2}])
    for job in await queue.fetch("q", 2):
        await queue.fail(job, "boom")
    assert (await queue.get_queue_stats("dead"))["created"] == 2
    assert await queue.redrive("dead", limit=1) == 1
    assert await queue.redrive("dead") == 1
    assert sorted(j.data["n"] for j in await queue.fetch("q", 5)) == [1, 2]
    assert (await queue.get_queue_stats("dead"))["completed"] == 2


async def test_bulk_retry_and_cancel_by_filter(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=0)
    await queue.create_queue("other")
    await queue.insert("q", list(range(5)))
    await queue.insert("other", list(range(3)))
    for job in await queue.fetch("q", 3):
        await queue.fail(job, "boom")
    assert await queue.retry_matching(name="q") == 3
    assert (await queue.get_queue_stats("q"))["retry"] == 3
    assert await queue.cancel_matching(name="other") == 3
    assert (await queue.get_queue_stats("other"))["cancelled"] == 3
    assert (await queue.get_queue_stats("q"))["cancelled"] == 0


async def test_attempt_history__every_attempt_with_outcome_and_error(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=1)
    job_id = await queue.send("q", {})
    [job] = await queue.fetch("q")
    await queue.fail(job, ValueError("first try"))
    [job] = await queue.fetch("q")
    await queue.complete(job, "ok")
    attempts = await queue.get_attempts(job_id)
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert attempts[0]["error"]["message"] == "first try"


async def test_fairness__small_keys_are_not_starved_by_a_huge_one(queue: JobQueue) -> None:
    await queue.create_queue("fair", fair=True)
    await queue.insert("fair", [{"k": "big"}] * 10_000, options={"group_key": "big"})
    for i in range(10):
        await queue.send("fair", {"k": f"small-{i}"}, group_key=f"small-{i}")
    order: list[str] = []
    small_done = asyncio.Event()

    async def handler(job: Job) -> None:
        order.append(job.group_key)
        if sum(key != "big" for key in order) == 10:
            small_done.set()

    await queue.work("fair", handler, concurrency=10)
    await asyncio.wait_for(small_done.wait(), 30)
    await queue.stop(grace=1)
    bigs_before_last_small = order[: max(i for i, k in enumerate(order) if k != "big")].count("big")
    assert bigs_before_last_small < 200, (
        f"{bigs_before_last_small} big jobs ran before the last small one"
    )


async def test_group_concurrency__limit_holds_across_workers(make_queue) -> None:
    queues = [make_queue(), make_queue()]
    await queues[0].create_queue("sync", group_concurrency=2)
    await queues[0].insert_many(
        "sync", [{"data": i, "group_key": f"user-{i % 3}"} for i in range(30)]
    )
    running: Counter[str] = Counter()
    peak: Counter[str] = Counter()

    async def handler(job: Job) -> None:
        running[job.group_key] += 1
        peak[job.group_key] = max(peak[job.group_key], running[job.group_key])
        await asyncio.sleep(0.02)
        running[job.group_key] -= 1

    for queue in queues:
        await queue.work("sync", handler, concurrency=10)
    await wait_for(lambda: settled(queues[0], "sync"), within=30)
    assert dict(peak) == {"user-0": 2, "user-1": 2, "user-2": 2}


async def test_group_rate_limit__token_bucket_per_key(queue: JobQueue, sql) -> None:
    await queue.create_queue("enrich", group_rate_limit=5, group_rate_period=60)
    await queue.insert("enrich", list(range(20)), options={"group_key": "provider-a"})
    await queue.insert("enrich", list(range(3)), options={"group_key": "provider-b"})
    first = await queue.fetch("enrich", 50)
    assert Counter(j.group_key for j in first) == {"provider-a": 5, "provider-b": 3}
    assert await queue.fetch("enrich", 50) == [], "provider-a's bucket is empty"
    await sql.execute(
        "UPDATE queue.job_group SET refilled_on = refilled_on - interval '24 seconds'"
    )
    assert len(await queue.fetch("enrich", 50)) == 2, "24 s refill 2 tokens at 5/min"


async def test_group_counters__follow_every_state_change(queue: JobQueue, sql) -> None:
    await queue.create_queue("g", group_concurrency=5, retry_limit=1)
    ids = await queue.insert("g", list(range(4)), options={"group_key": "u"})
    jobs = await queue.fetch("g", 3)
    await queue.complete(jobs[0])
    await queue.fail(jobs[1], "x")
    await queue.cancel([jobs[2].id, ids[3]])
    assert await sql.all("SELECT queued, running FROM queue.job_group") == [(1, 0)]
    assert (await queue.get_job(jobs[2].id)).state is JobState.CANCELLED


async def test_a_queue_made_fair_adopts_the_jobs_already_waiting(queue: JobQueue, sql) -> None:
    """Turning fairness on (an upgrade does) must not strand jobs sent while it was off."""
    await queue.create_queue("later", retry_limit=0)
    await queue.insert("later", [1, 2, 3])
    await queue.insert("later", [4, 5], options={"group_key": "u1"})
    [running] = await queue.fetch("later", 1)
    await queue.create_queue("later", fair=True, retry_limit=0)
    counts = await sql.all("SELECT group_key, queued, running FROM queue.job_group ORDER BY 1")
    assert counts == [("", 2, 1), ("u1", 2, 0)]  # 1 running, 2 and 3 waiting without a key
    done: list[int] = []

    async def handler(job: Job) -> None:
        done.append(job.data)

    await queue.complete(running)
    await queue.work("later", handler, concurrency=2)

    async def all_done() -> bool:
        return len(done) == 4

    await wait_for(all_done, within=30)
    await queue.stop(grace=1)
    assert sorted(done) == [2, 3, 4, 5]
    assert await sql.all("SELECT queued, running FROM queue.job_group ORDER BY group_key") == [
        (0, 0),
        (0, 0),
    ]
