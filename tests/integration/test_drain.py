"""Drain runs (`fluffymail.queue.drain`): work what is due, then stop; the budget holds and
releases what it cut off; overlapping runs share the work and the clock exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fluffymail.queue import Job, JobQueue
from fluffymail.queue.client import MAX_CUTOFFS
from fluffymail.queue.drain import DrainOptions, DrainReport, drain
from fluffymail.queue.maintenance import MaintenanceOptions
from fluffymail.queue.registry import Registry

HANG = 30  # seconds: a hang bound, never an assertion about speed


def registry_of(**handlers: Any) -> Registry:
    registry = Registry()
    for name, handler in handlers.items():
        registry.register(name.replace("_", "-"), handler, concurrency=4, retry_limit=2)
    return registry


async def run(queue: JobQueue, registry: Registry, seconds: float = 20, **kw: Any) -> DrainReport:
    options = DrainOptions(seconds=seconds, grace=kw.pop("grace", 1), timeout=1)
    return await asyncio.wait_for(
        drain(queue, registry, {}, options, handle_signals=False, **kw), seconds + HANG
    )


async def test_drain__processes_everything_due_and_the_follow_ups_then_stops(
    make_queue, sql
) -> None:
    queue: JobQueue = make_queue()
    ran: Counter[str] = Counter()

    async def first(job: Job) -> None:
        ran["first"] += 1
        await queue.send("second", {"from": job.id})  # a follow-up in another queue

    async def second(job: Job) -> None:
        ran["second"] += 1

    registry = registry_of(first=first, second=second)
    for entry in registry:
        await queue.create_queue(entry.name)
    await queue.insert("first", [{"i": i} for i in range(25)])
    await queue.send("first", {"later": True}, start_after=3600)  # not due: left alone

    report = await run(queue, registry)

    assert ran == {"first": 25, "second": 25}
    assert report.done == {"first": 25, "second": 25}
    assert not report.out_of_time and not report.work_left and report.clean
    assert report.due_left == 0 and report.next_due is not None, "the deferred job is next"
    assert report.leader, "no other process: the run held the leader lease"
    assert await sql.one("SELECT count(*) FROM queue.lease WHERE name = 'leader'") == 0
    assert await sql.one("SELECT count(*) FROM queue.worker") == 0, "its worker row is gone"
    assert "done first=25, second=25" in report.summary()


async def test_drain__a_job_that_becomes_due_during_the_run_is_processed(make_queue) -> None:
    queue: JobQueue = make_queue()
    done: list[str] = []

    async def slow(job: Job) -> None:
        await asyncio.sleep(1.0)
        done.append("slow")

    async def soon(job: Job) -> None:
        done.append("soon")

    registry = registry_of(slow=slow, soon=soon)
    for entry in registry:
        await queue.create_queue(entry.name)
    await queue.send("slow")
    await queue.send("soon", start_after=0.3)  # due while the slow one runs

    report = await run(queue, registry)

    assert sorted(done) == ["slow", "soon"]
    assert report.done == {"slow": 1, "soon": 1} and report.due_left == 0


async def test_drain__budget_holds_with_a_slow_handler_which_is_released_not_lost(
    make_queue, sql
) -> None:
    queue: JobQueue = make_queue()
    started = asyncio.Event()

    async def endless(job: Job) -> None:
        started.set()
        await asyncio.sleep(3600)

    registry = registry_of(endless=endless)
    await queue.create_queue("endless")
    job_id = await queue.send("endless")

    report = await run(queue, registry, seconds=2.5, grace=0.3)

    assert started.is_set()
    assert report.out_of_time and report.work_left and report.clean
    assert report.due_left == 1, "the released job is due again at once"
    job = await queue.get_job(job_id)
    assert job is not None
    assert (job.state, job.retry_count) == ("retry", 0), "released without spending a retry"
    outcomes = await sql.all("SELECT outcome FROM queue.job_attempt WHERE job_id = %s", job_id)
    assert outcomes == [("out of time",)]


async def test_drain__a_job_cut_off_too_often_fails_its_attempt(queue: JobQueue, sql) -> None:
    """After MAX_CUTOFFS releases, the next cut-off spends a retry, so a job that never fits
    the budget ends in the dead letters instead of holding every run forever."""
    await queue.create_queue("huge", retry_limit=1)
    job_id = await queue.send("huge")
    for attempt in range(1, MAX_CUTOFFS + 2):
        [job] = await queue.fetch("huge")
        await queue.store.release_out_of_time([job.lease], MAX_CUTOFFS)
        expected = ("retry", 0) if attempt <= MAX_CUTOFFS else ("retry", 1)
        current = await queue.get_job(job_id)
        assert current is not None and (current.state, current.retry_count) == expected
    output = await sql.one("SELECT output FROM queue.job WHERE id = %s", job_id)
    assert output["type"] == "OutOfTime"


async def test_drain__two_runs_at_once_never_double_process_and_fire_a_tick_once(
    make_queue, sql
) -> None:
    await sql.execute("CREATE TABLE drain_effect (job_id bigint, name text)")

    async def record(job: Job) -> None:
        await sql.execute("INSERT INTO drain_effect VALUES (%s, %s)", job.id, job.name)

    registry = registry_of(work=record, tick=record)
    maintenance = MaintenanceOptions(leader_ttl=30)
    queues = [make_queue(maintenance=maintenance) for _ in range(2)]
    for entry in registry:
        await queues[0].create_queue(entry.name)
    await queues[0].schedule("tick", "0 0 1 1 *")  # yearly: only the back-dated tick is due
    await sql.execute(
        "UPDATE queue.schedule SET last_tick = last_tick - interval '1 year',"
        " next_tick = now() - interval '1 second'"
    )
    await queues[0].insert("work", [{"i": i} for i in range(300)])

    reports = await asyncio.gather(*(run(q, registry) for q in queues))

    total, distinct = (await sql.all("SELECT count(*), count(DISTINCT job_id) FROM drain_effect"))[
        0
    ]
    assert (total, distinct) == (301, 301), "every job ran exactly once"
    assert await sql.one("SELECT count(*) FROM queue.job WHERE name = 'tick'") == 1
    assert sorted(r.leader for r in reports) == [False, True], "one leader at a time"
    assert sum(r.fired for r in reports) == 1
    assert sum(sum(r.done.values()) for r in reports) == 301


async def test_drain__rescues_the_jobs_of_a_dead_worker_first(make_queue, sql) -> None:
    """What a SIGKILLed worker leaves: its row (stale, its liveness lock gone) and a running
    attempt. (tests/acceptance/test_drain_processes.py kills a real one.)"""
    queue: JobQueue = make_queue()
    ran: list[int] = []

    async def handle(job: Job) -> None:
        ran.append(job.attempt)

    registry = registry_of(lost=handle)
    await queue.create_queue("lost", retry_delay=0)
    job_id = await queue.send("lost")
    await sql.execute(
        "INSERT INTO queue.worker (id, host, pid, queues, locked, heartbeat_on)"
        " VALUES ('gone:1:x', 'gone', 1, '{lost}', true, now() - interval '1 minute')"
    )
    await sql.execute(
        "UPDATE queue.job SET state = 'active', attempt = 1, started_on = now(), running = true,"
        " worker = 'gone:1:x' WHERE id = %s",
        job_id,
    )

    report = await run(queue, registry)

    assert report.rescued == 1 and ran == [2]
    assert report.done == {"lost": 1}
