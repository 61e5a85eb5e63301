"""Schedules, leadership, pruning and the worker registry, driven without sleeping."""

from __future__ import annotations

import asyncio

import pytest

from fluffymail.queue import InvalidOptionError, JobQueue
from fluffymail.queue.maintenance import MaintenanceOptions


@pytest.fixture
async def leader(make_queue) -> JobQueue:
    queue = make_queue(
        maintenance=MaintenanceOptions(leader_ttl=30, schedule_interval=3600, prune_interval=3600)
    )
    assert await queue.maintenance.elect()
    return queue


async def test_schedule__first_job_at_the_next_tick_then_one_per_tick(
    leader: JobQueue, sql
) -> None:
    await leader.create_queue("sync-emails", policy="stately")
    await leader.schedule("sync-emails", "*/15 * * * *", {"connection_id": 7}, key="connection-7")
    assert await leader.maintenance.run_schedules() == 0, "nothing is due before the next tick"
    await sql.execute(
        "UPDATE queue.schedule SET last_tick = last_tick - interval '15 minutes',"
        " next_tick = next_tick - interval '15 minutes'"
    )
    assert await leader.maintenance.run_schedules() == 1
    assert await leader.maintenance.run_schedules() == 0, "the same tick never fires twice"
    [job] = await leader.fetch("sync-emails")
    assert job.data == {"connection_id": 7} and job.singleton_key == "connection-7"


async def test_schedule__after_downtime_at_most_one_catch_up_job(leader: JobQueue, sql) -> None:
    await leader.create_queue("q")
    await leader.schedule("q", "* * * * *", {"tick": True})
    await sql.execute(
        "UPDATE queue.schedule SET last_tick = last_tick - interval '3 hours',"
        " next_tick = next_tick - interval '3 hours'"
    )
    assert await leader.maintenance.run_schedules() == 1
    assert await leader.maintenance.run_schedules() == 0
    assert (await leader.get_queue_stats("q"))["created"] == 1


async def test_schedule__stately_queue_stops_a_slow_sync_from_piling_up(
    leader: JobQueue, sql
) -> None:
    await leader.create_queue("sync", policy="stately")
    await leader.schedule("sync", "* * * * *", key="c1")
    for _ in range(3):
        await sql.execute(
            "UPDATE queue.schedule SET last_tick = last_tick - interval '1 minute',"
            " next_tick = now() - interval '1 second'"
        )
        await leader.maintenance.run_schedules()
    assert (await leader.get_queue_stats("sync"))["created"] == 1


async def test_schedule__only_the_leader_runs_the_clock(make_queue, sql) -> None:
    first, second = make_queue(), make_queue()
    assert await first.maintenance.elect()
    assert not await second.maintenance.elect(), "the lease is held"
    await first.create_queue("q")
    await first.schedule("q", "* * * * *")
    await sql.execute(
        "UPDATE queue.schedule SET last_tick = last_tick - interval '1 minute', next_tick = now()"
    )
    assert await second.maintenance.run_schedules() == 0
    assert await first.maintenance.run_schedules() == 1


async def test_schedule__two_leaders_at_once_fire_a_tick_once(make_queue, sql) -> None:
    """A leader whose lease ran out mid-tick still fires beside the new one: the schedule's
    gate, not the lease, keeps each tick to one job."""
    queues = [make_queue() for _ in range(4)]
    for queue in queues:
        queue.maintenance.is_leader = True  # what a stale leader believes
    await queues[0].create_queue("q")
    for minutes in range(3):
        await queues[0].schedule("q", "* * * * *", key=f"k{minutes}")
    await sql.execute(
        "UPDATE queue.schedule SET last_tick = last_tick - interval '1 minute', next_tick = now()"
    )
    fired = await asyncio.gather(*(queue.maintenance.run_schedules() for queue in queues))
    assert sum(fired) == 3, fired
    assert (await queues[0].get_queue_stats("q"))["created"] == 3


async def test_leadership__expired_lease_is_taken_over(make_queue, sql) -> None:
    first, second = make_queue(), make_queue()
    assert await first.maintenance.elect()
    await sql.execute("UPDATE queue.lease SET expires_on = now() - interval '1 second'")
    assert await second.maintenance.elect()
    assert not await first.maintenance.elect()


async def test_unschedule_and_get_schedules(leader: JobQueue) -> None:
    await leader.create_queue("q")
    await leader.schedule("q", "0 9 * * 1-5", {"a": 1}, tz="Europe/Paris", key="k1")
    await leader.schedule("q", "0 9 * * 1-5", key="k2")
    schedules = await leader.get_schedules()
    assert {(s["key"], s["tz"]) for s in schedules} == {("k1", "Europe/Paris"), ("k2", "UTC")}
    assert await leader.unschedule("q", "k1") == 1
    assert await leader.unschedule("q") == 1
    assert await leader.get_schedules() == []


async def test_schedule__bad_input(leader: JobQueue) -> None:
    await leader.create_queue("q")
    with pytest.raises(InvalidOptionError, match="invalid cron"):
        await leader.schedule("q", "every day")
    with pytest.raises(InvalidOptionError, match="unknown time zone"):
        await leader.schedule("q", "* * * * *", tz="Nowhere/Special")


async def test_prune__deletes_expired_finished_jobs_in_batches(leader: JobQueue, sql) -> None:
    await leader.create_queue("q", retention=60, retry_limit=0)
    ids = await leader.insert("q", list(range(30)))
    for job in await leader.fetch("q", 30):
        await (leader.fail(job, "x") if job.data % 2 else leader.complete(job))
    await leader.send("q", "still queued")
    assert await leader.maintenance.prune() == 0, "retention not yet passed"
    await sql.execute(
        "UPDATE queue.job SET keep_until = now() - interval '1 second' WHERE id = ANY(%s)", ids
    )
    leader.maintenance.options = MaintenanceOptions(prune_batch=7)
    assert await leader.maintenance.prune() == 30
    assert await sql.one("SELECT count(*) FROM queue.job") == 1
    assert await sql.one("SELECT count(*) FROM queue.job_attempt") == 0, (
        "attempts go with their job"
    )


async def test_workers__register_and_disappear(make_queue, sql) -> None:
    queue = make_queue()
    await queue.create_queue("q")

    async def handler(job) -> None: ...

    await queue.work("q", handler)
    await queue.maintenance.register()
    [worker] = await queue.get_workers()
    assert worker["queues"] == ["q"] and worker["id"] == queue.worker_id
    await sql.execute(
        "INSERT INTO queue.worker (id, host, pid, heartbeat_on) VALUES ('dead', 'h', 1, now() - interval '1 hour')"
    )
    assert await queue.maintenance.elect()
    await queue.maintenance.prune()  # the leader's pruner forgets long-silent workers
    assert [w["id"] for w in await queue.get_workers()] == [queue.worker_id]
    await queue.stop()
    assert await queue.get_workers() == []
