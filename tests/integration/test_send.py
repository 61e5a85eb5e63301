"""Sending jobs: options, deduplication, bulk insert, transactional send, bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from fluffymail.queue import InvalidOptionError, JobQueue, JobState, UnknownQueueError
from fluffymail.queue.notifier import CHANNEL


async def test_send__returns_id_and_job_inherits_queue_defaults(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=4, expire_in="5 minutes", retention="1 day")
    job_id = await queue.send("q", {"a": 1})
    job = await queue.get_job(job_id)
    assert job is not None and job.data == {"a": 1} and job.state is JobState.CREATED
    assert (job.retry_limit, job.expire_seconds) == (4, 300)


async def test_send__job_options_override_queue_defaults(queue: JobQueue) -> None:
    await queue.create_queue("q", retry_limit=4)
    job = await queue.get_job(
        await queue.send("q", None, retry_limit=0, expire_in=timedelta(seconds=7), priority=3)
    )
    assert (job.retry_limit, job.expire_seconds, job.priority) == (0, 7, 3)


@pytest.mark.parametrize("start_after", [30, "30 seconds", "PT30S", timedelta(seconds=30)])
async def test_send__relative_start_after_forms(queue: JobQueue, start_after: object) -> None:
    await queue.create_queue("q")
    job = await queue.get_job(await queue.send("q", {}, start_after=start_after))
    assert timedelta(seconds=25) < job.start_after - job.created_on < timedelta(seconds=35)


async def test_send__absolute_start_after(queue: JobQueue) -> None:
    await queue.create_queue("q")
    when = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    for value in (when, when.isoformat()):
        job = await queue.get_job(await queue.send("q", {}, start_after=value))
        assert job.start_after == when


async def test_singleton_key__one_queued_job_per_key(queue: JobQueue) -> None:
    await queue.create_queue("q")
    first = await queue.send("q", {}, singleton_key="user-1")
    assert first is not None
    assert await queue.send("q", {}, singleton_key="user-1") is None
    assert await queue.send("q", {}, singleton_key="user-2") is not None
    [_job] = [j for j in await queue.fetch("q", 5) if j.singleton_key == "user-1"]
    assert await queue.send("q", {}, singleton_key="user-1") is not None, (
        "a running job does not block a new queued one"
    )


async def test_hurry__a_delayed_queued_job_of_the_key_starts_now(queue: JobQueue) -> None:
    await queue.create_queue("q")
    waiting = await queue.send("q", {}, singleton_key="user-1", start_after=3600)
    other = await queue.send("q", {}, singleton_key="user-2", start_after=3600)
    assert await queue.send("q", {}, singleton_key="user-1") is None  # joined the waiting one

    assert await queue.hurry("q", "user-1") == [waiting]

    assert [j.id for j in await queue.fetch("q", 5)] == [waiting]  # user-2 still waits
    assert await queue.hurry("q", "user-1") == []  # running: nothing to hurry
    assert other is not None


async def test_hurry__wakes_listeners_only_when_it_starts_a_job(
    queue: JobQueue, direct_db_url
) -> None:
    await queue.create_queue("later")
    await queue.send("later", {}, singleton_key="user-1", start_after=3600)
    async with await psycopg.AsyncConnection.connect(direct_db_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        assert await queue.hurry("later", "user-2") == []
        assert await _notifications(listener) == []
        assert len(await queue.hurry("later", "user-1")) == 1
        assert await _notifications(listener) == ["later"]  # not at the next poll (issue 19)


async def test_singleton_seconds__one_job_per_slot(queue: JobQueue, sql) -> None:
    await queue.create_queue("q")
    assert await queue.send("q", {}, singleton_seconds=3600, singleton_key="k") is not None
    assert await queue.send("q", {}, singleton_seconds=3600, singleton_key="k") is None
    assert await queue.send("q", {}, singleton_seconds=3600, singleton_key="other") is not None
    await sql.execute("UPDATE queue.job SET singleton_on = singleton_on - interval '2 hours'")
    assert await queue.send("q", {}, singleton_seconds=3600, singleton_key="k") is not None, (
        "a new slot admits a new job"
    )


async def test_insert__thousands_in_one_call(queue: JobQueue, sql) -> None:
    await queue.create_queue("bulk")
    ids = await queue.insert("bulk", [{"i": i} for i in range(5000)])
    assert len(ids) == 5000 == len(set(ids))
    assert await sql.one("SELECT count(*) FROM queue.job WHERE name = 'bulk'") == 5000


async def test_insert_many__per_job_options_and_dedup(queue: JobQueue) -> None:
    await queue.create_queue("q")
    ids = await queue.insert_many(
        "q",
        [
            {"data": 1, "singleton_key": "a"},
            {"data": 2, "singleton_key": "a"},
            {"data": 3, "priority": 9},
        ],
    )
    assert len(ids) == 2


async def test_send__in_rolled_back_transaction_leaves_no_job_and_wakes_no_one(
    queue: JobQueue, pool, direct_db_url
) -> None:
    await queue.create_queue("tx")
    async with await psycopg.AsyncConnection.connect(direct_db_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        async with pool.connection() as conn:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    assert await queue.send("tx", {"x": 1}, conn=conn) is not None
                    raise RuntimeError("caller rolls back")
        assert await _notifications(listener) == []
        assert (await queue.get_queue_stats("tx"))["created"] == 0
        async with pool.connection() as conn, conn.transaction():
            await queue.send("tx", {"x": 2}, conn=conn)
        assert await _notifications(listener) == ["tx"]
    assert (await queue.get_queue_stats("tx"))["created"] == 1


async def _notifications(conn: psycopg.AsyncConnection) -> list[str]:
    received = []
    try:
        async with asyncio.timeout(0.5):
            async for notify in conn.notifies():
                received.append(notify.payload)
    except TimeoutError:
        pass
    return received


async def test_send__unknown_queue_is_a_clear_error(queue: JobQueue) -> None:
    with pytest.raises(UnknownQueueError, match="unknown queue 'nope'"):
        await queue.send("nope", {})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retry_limit": -1}, "retry_limit must be an integer from 0 to"),
        ({"start_after": "whenever"}, "start_after: cannot parse 'whenever'"),
        ({"start_after": -5}, "start_after must be a non-negative duration"),
        ({"priority": "high"}, "priority must be an integer"),
        ({"retry_limt": 3}, "did you mean 'retry_limit'"),
    ],
)
async def test_send__bad_options_name_the_problem(
    queue: JobQueue, options: dict, message: str
) -> None:
    await queue.create_queue("q")
    with pytest.raises(InvalidOptionError, match=message):
        await queue.send("q", {}, **options)


async def test_send__data_that_is_not_json_is_refused(queue: JobQueue) -> None:
    await queue.create_queue("q")
    with pytest.raises(InvalidOptionError, match="data is not JSON-serialisable"):
        await queue.send("q", {"when": object()})


async def test_create_queue__bad_options_and_unknown_dead_letter(queue: JobQueue) -> None:
    with pytest.raises(InvalidOptionError, match="policy must be one of"):
        await queue.create_queue("q", policy="exclusive")
    with pytest.raises(UnknownQueueError):
        await queue.create_queue("q", dead_letter="missing")
