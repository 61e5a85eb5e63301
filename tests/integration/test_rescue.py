"""Rescue keyed on dead workers (issue 16): a worker whose row went stale and whose liveness
lock is gone loses its attempts within seconds; attempts it never started go back without
spending a retry; a worker that still holds its lock, or never took one, keeps its attempts."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from fluffymail.queue import JobQueue
from fluffymail.queue.job import JobState
from fluffymail.queue.maintenance import MaintenanceOptions
from fluffymail.queue.store import Store
from tests.helpers import wait_for

DEAD_SECONDS = 2.0


@pytest.fixture
async def queue(make_queue, sql) -> JobQueue:
    """A queue whose rescuer calls a worker dead after 2 s, on a server that has been up for
    longer than that (the rescuer trusts no missing lock in the first seconds after a start)."""
    young = await sql.one(
        "SELECT greatest(0, 2.5 - extract(epoch FROM now() - pg_postmaster_start_time()))::float"
    )
    await asyncio.sleep(young)  # until the server has been up 2.5 s (0 on a server up for long)
    return make_queue(maintenance=MaintenanceOptions(worker_dead_seconds=DEAD_SECONDS))


async def claim_as(sql, queue: JobQueue, name: str, worker: str, *, running: bool) -> int:
    """Send one job and make it an attempt of `worker` (started or not)."""
    job_id = await queue.send(name, {})
    await sql.execute(
        "UPDATE queue.job SET state = 'active', attempt = 1, started_on = now(), worker = %s,"
        " running = %s WHERE id = %s",
        worker,
        running,
        job_id,
    )
    return job_id


async def add_worker(sql, worker: str, *, locked: bool, silent_for: float) -> None:
    await sql.execute(
        "INSERT INTO queue.worker (id, host, pid, locked, heartbeat_on)"
        " VALUES (%s, 'h', 1, %s, now() - make_interval(secs => %s))",
        worker,
        locked,
        silent_for,
    )


async def test_rescue__dead_worker_loses_its_attempts_before_their_heartbeat_lapses(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q", retry_limit=1, heartbeat_seconds=300)
    await add_worker(sql, "dead", locked=True, silent_for=10)
    job_id = await claim_as(sql, queue, "q", "dead", running=True)
    assert await queue.rescue() == 1
    job = await queue.get_job(job_id)
    assert job.state is JobState.RETRY and job.retry_count == 1
    [attempt] = await queue.get_attempts(job_id)
    assert attempt["outcome"] == "lost" and "is gone" in attempt["error"]["message"]


async def test_rescue__a_worker_holding_its_lock_or_without_one_keeps_its_attempts(
    queue: JobQueue, sql, direct_db_url
) -> None:
    await queue.create_queue("q", heartbeat_seconds=300)
    await add_worker(sql, "blocked", locked=True, silent_for=60)  # e.g. its event loop is busy
    await add_worker(sql, "lockless", locked=False, silent_for=60)  # e.g. listen=False
    await add_worker(sql, "fresh", locked=True, silent_for=0)  # between two lock attempts
    ids = [
        await claim_as(sql, queue, "q", worker, running=True)
        for worker in ("blocked", "lockless", "fresh")
    ]
    # a session lock: straight to the server, never through a pooler
    async with await psycopg.AsyncConnection.connect(direct_db_url, autocommit=True) as session:
        assert await Store.lock_worker(session, "blocked")
        assert await queue.rescue() == 0
    states = await sql.all("SELECT state FROM queue.job WHERE id = ANY(%s)", ids)
    assert {state for (state,) in states} == {"active"}
    assert await queue.rescue() == 1, "once its session ends, the blocked worker is dead too"


async def test_rescue__attempts_never_started_are_released_without_a_retry(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q", retry_limit=0, heartbeat_seconds=300)
    await add_worker(sql, "dead", locked=True, silent_for=10)
    started = await claim_as(sql, queue, "q", "dead", running=True)
    ahead = await claim_as(sql, queue, "q", "dead", running=False)
    assert await queue.rescue() == 2
    assert (await queue.get_job(started)).state is JobState.FAILED
    job = await queue.get_job(ahead)
    assert job.state is JobState.RETRY and job.retry_count == 0
    [attempt] = await queue.get_attempts(ahead)
    assert attempt["outcome"] == "not started"
    [fresh] = await queue.fetch("q")
    assert fresh.id == ahead and fresh.attempt == 2


async def test_rescue__free_releases_are_capped_so_a_job_that_kills_workers_ends(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q", retry_limit=0, heartbeat_seconds=300)
    job_id = await queue.send("q", {})
    for attempt in range(1, 4):
        await sql.execute(
            "INSERT INTO queue.job_attempt (job_id, attempt, name, outcome)"
            " VALUES (%s, %s, 'q', 'not started')",
            job_id,
            attempt,
        )
    await add_worker(sql, "dead", locked=True, silent_for=10)
    await sql.execute(
        "UPDATE queue.job SET state = 'active', attempt = 4, started_on = now(), worker = 'dead',"
        " running = false WHERE id = %s",
        job_id,
    )
    assert await queue.rescue() == 1
    assert (await queue.get_job(job_id)).state is JobState.FAILED


async def test_worker__marks_started_attempts_and_holds_its_liveness_lock(
    queue: JobQueue, sql
) -> None:
    await queue.create_queue("q")
    release = asyncio.Event()

    async def handler(job) -> None:
        await release.wait()

    job_id = await queue.send("q", {})
    await queue.work("q", handler, concurrency=1)

    async def marked() -> bool:
        return bool(await sql.one("SELECT running FROM queue.job WHERE id = %s", job_id))

    await wait_for(marked, within=60)  # a hang bound, not a speed check
    [(locked,)] = await sql.all("SELECT locked FROM queue.worker WHERE id = %s", queue.worker_id)
    held = await sql.one(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objid = (hashtext(%s)::bigint & 4294967295)::oid",
        queue.worker_id,
    )
    assert locked and held == 1
    release.set()
