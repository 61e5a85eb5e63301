"""Debounce that resets (issue 17): one job per key, pushed back by each send, capped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import InvalidOptionError, JobQueue, JobState
from tests.helpers import settled, wait_for


async def _queued(sql, name: str = "q") -> list[tuple]:
    return await sql.all(
        "SELECT id, data, start_after - created_on, created_on FROM queue.job"
        " WHERE name = %s AND state < 'active' ORDER BY id",
        name,
    )


async def test_debounce__each_send_pushes_the_start_and_takes_the_newest_data(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q")
    first = await queue.send("q", {"n": 1}, debounce_key="contact-7", debounce="60s")
    [(job_id, data, delay, _)] = await _queued(sql)
    assert (job_id, data) == (first, {"n": 1})
    assert timedelta(seconds=59) < delay <= timedelta(seconds=60)
    # pretend the first send was 50 seconds ago: the next send restarts the window from now
    await sql.execute(
        "UPDATE queue.job SET created_on = created_on - interval '50 seconds',"
        " start_after = start_after - interval '50 seconds' WHERE id = %s",
        first,
    )
    second = await queue.send("q", {"n": 2}, debounce_key="contact-7", debounce="60s")
    assert second == first, "the queued job absorbs the send"
    [(_, data, delay, _)] = await _queued(sql)
    assert data == {"n": 2}
    assert timedelta(seconds=109) < delay < timedelta(seconds=115), "now + 60s, from the first"
    other = await queue.send("q", {"n": 3}, debounce_key="contact-8", debounce="60s")
    assert other != first and len(await _queued(sql)) == 2


async def test_debounce__the_maximum_caps_the_wait_from_the_first_send(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q")
    options = {"debounce_key": "k", "debounce": "60s", "debounce_max": "10 minutes"}
    first = await queue.send("q", {"n": 1}, **options)
    await sql.execute(
        "UPDATE queue.job SET created_on = created_on - interval '9 minutes 30 seconds' WHERE id = %s",
        first,
    )
    assert await queue.send("q", {"n": 2}, **options) == first
    [(_, data, delay, _)] = await _queued(sql)
    assert data == {"n": 2}
    assert delay == timedelta(minutes=10), "capped at the first send + debounce_max"


async def test_debounce__data_kept_or_merged_when_asked(queue: JobQueue, sql) -> None:
    await queue.create_queue("q")
    await queue.send("q", {"a": 1}, debounce_key="k", debounce=60, debounce_data="first")
    await queue.send("q", {"a": 2}, debounce_key="k", debounce=60, debounce_data="first")
    await queue.send("q", {"a": 1, "b": 1}, debounce_key="m", debounce=60)
    await queue.send("q", {"b": 2, "c": 3}, debounce_key="m", debounce=60, debounce_data="merge")
    assert [row[1] for row in await _queued(sql)] == [{"a": 1}, {"a": 1, "b": 2, "c": 3}]


async def test_debounce__a_send_after_the_start_makes_a_new_job(queue: JobQueue, sql) -> None:
    await queue.create_queue("q")
    first = await queue.send("q", {"n": 1}, debounce_key="k", debounce=0.01)
    await asyncio.sleep(0.05)
    [claimed] = await queue.fetch("q")
    assert claimed.id == first and claimed.data == {"n": 1}
    second = await queue.send("q", {"n": 2}, debounce_key="k", debounce=0.01)
    assert second is not None and second != first
    assert (await queue.get_job(first)).state is JobState.ACTIVE
    assert [row[0] for row in await _queued(sql)] == [second]


async def test_debounce__concurrent_senders_leave_one_queued_job_per_key(
    queue: JobQueue, sql, pool: AsyncConnectionPool
) -> None:
    await queue.create_queue("q")

    async def sender(i: int) -> int | None:
        await asyncio.sleep(0)
        return await queue.send("q", {"i": i}, debounce_key=f"key-{i % 3}", debounce="60s")

    ids = await asyncio.gather(*(sender(i) for i in range(60)))
    assert len(set(ids)) == 3
    rows = await sql.all(
        "SELECT singleton_key, count(*) FROM queue.job WHERE name = 'q' GROUP BY 1 ORDER BY 1"
    )
    assert rows == [("key-0", 1), ("key-1", 1), ("key-2", 1)]


async def test_debounce__concurrent_transactions_leave_one_job(
    queue: JobQueue, sql, pool: AsyncConnectionPool
) -> None:
    await queue.create_queue("q")
    ready = asyncio.Barrier(6)

    async def sender(i: int) -> int | None:
        async with pool.connection() as conn, conn.transaction():
            await ready.wait()
            job_id = await queue.send("q", {"i": i}, debounce_key="k", debounce=60, conn=conn)
            await asyncio.sleep(0.02)  # hold the transaction open: the others wait on its row
            return job_id

    ids = await asyncio.gather(*(sender(i) for i in range(6)))
    assert len(set(ids)) == 1
    [(job_id, data, _, _)] = await _queued(sql)
    assert job_id == ids[0] and data["i"] in range(6)


async def test_debounce__racing_a_worker_the_newest_event_is_never_lost(queue: JobQueue) -> None:
    await queue.create_queue("q")
    seen: list[int] = []

    async def handle(job) -> None:
        seen.append(job.data["i"])

    await queue.work("q", handle, concurrency=2)
    for i in range(100):
        await queue.send("q", {"i": i}, debounce_key="k", debounce=0.005)
        if i % 10 == 0:
            await asyncio.sleep(0.01)
    await wait_for(lambda: settled(queue, "q"))
    assert 99 in seen, "the last send is run, by the queued job or by a new one"


async def test_debounce__inside_the_callers_transaction(
    queue: JobQueue, sql, pool: AsyncConnectionPool
) -> None:
    await queue.create_queue("q")
    async with pool.connection() as conn:
        async with conn.transaction(force_rollback=True):
            await queue.send("q", {"n": 1}, debounce_key="k", debounce=60, conn=conn)
            await queue.send("q", {"n": 2}, debounce_key="k", debounce=60, conn=conn)
    assert await _queued(sql) == [], "rolled back with the caller's transaction"
    async with pool.connection() as conn:
        async with conn.transaction():
            job_id = await queue.send("q", {"n": 1}, debounce_key="k", debounce=60, conn=conn)
    assert [row[:2] for row in await _queued(sql)] == [(job_id, {"n": 1})]


async def test_debounce__a_worker_runs_the_burst_once_with_the_last_data(
    queue: JobQueue,
) -> None:
    await queue.create_queue("q")
    seen: list[dict] = []

    async def handle(job) -> None:
        seen.append(job.data)

    await queue.work("q", handle)
    for i in range(5):
        await queue.send("q", {"i": i}, debounce_key="k", debounce=0.3)
        await asyncio.sleep(0.05)
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert seen == [{"i": 4}]


@pytest.mark.parametrize(
    "options",
    [
        {"debounce_key": "k"},
        {"debounce": "60s"},
        {"debounce": 0, "debounce_key": "k"},
        {"debounce": 60, "debounce_key": "k", "debounce_max": 30},
        {"debounce": 60, "debounce_key": "k", "debounce_data": "oldest"},
        {"debounce": 60, "debounce_key": "k", "start_after": 5},
        {"debounce": 60, "debounce_key": "k", "singleton_key": "other"},
    ],
)
async def test_debounce__bad_options_refused(queue: JobQueue, options: dict) -> None:
    await queue.create_queue("q")
    with pytest.raises(InvalidOptionError):
        await queue.send("q", {}, **options)


async def test_debounce__needs_a_standard_queue(queue: JobQueue) -> None:
    await queue.create_queue("s", policy="stately")
    with pytest.raises(InvalidOptionError, match="standard"):
        await queue.send("s", {}, debounce_key="k", debounce=60)


async def test_debounce__a_grouped_queue_counts_the_job_once(queue: JobQueue, sql) -> None:
    await queue.create_queue("g", fair=True)
    for i in range(3):
        await queue.send("g", {"i": i}, debounce_key="k", debounce=60, group_key="user-1")
    assert len(await _queued(sql, "g")) == 1
    assert await sql.one("SELECT queued FROM queue.job_group WHERE name = 'g'") == 1


async def test_debounce__options_given_as_none_mean_a_plain_send(queue: JobQueue) -> None:
    await queue.create_queue("q")
    job_id = await queue.send("q", {}, debounce=None, debounce_key=None)
    assert (await queue.get_job(job_id)).singleton_key is None


async def test_debounce_many__one_statement_resets_queued_keys_and_starts_new_ones(
    queue: JobQueue, sql
) -> None:
    """What extraction sends for the contacts of a batch: one job per contact, each pushed back
    by a later batch that touches it again, capped, in the group of the contacts' user."""
    await queue.create_queue("q", fair=True)
    options = {"debounce": "60s", "debounce_max": "10 minutes", "group_key": "user-1"}
    new = await queue.send_debounced_many("q", [("c-1", {"n": 1}), ("c-2", {"n": 2})], **options)
    assert new == 2
    await sql.execute(
        "UPDATE queue.job SET created_on = created_on - interval '50 seconds',"
        " start_after = start_after - interval '50 seconds' WHERE data->>'n' = '1'"
    )
    items = [("c-1", {"n": 11}), ("c-3", {"n": 3}), ("c-3", {"n": 33})]
    assert await queue.send_debounced_many("q", items, **options) == 1  # c-3 only is new
    queued = await _queued(sql)
    assert [row[1] for row in queued] == [{"n": 11}, {"n": 2}, {"n": 33}]
    delay = queued[0][2]
    assert timedelta(seconds=109) < delay < timedelta(seconds=115), "now + 60s, from the first"
    keys = await sql.all("SELECT DISTINCT group_key FROM queue.job WHERE name = 'q'")
    assert keys == [("user-1",)]
    assert await queue.send_debounced_many("q", [], **options) == 0
    with pytest.raises(InvalidOptionError):
        await queue.send_debounced_many("q", [("c-9", {})], debounce_max="10 minutes")
