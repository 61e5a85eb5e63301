"""Rescue keyed on dead workers (issue 16): a worker whose row went stale and whose liveness
lock is gone loses its attempts within seconds; attempts it never started go back without
spending a retry; a worker that still holds its lock, or never took one, keeps its attempts;
a claim whose reply was lost goes back as well, one whose reply is on its way does not."""

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


def intercept_claims(queue: JobQueue, monkeypatch, reply):
    """Route the worker's claim statements through `reply(fetched)`, which runs once the claim
    has committed (it may hold the reply back or raise as if the connection broke)."""
    real_fetch = queue.store.fetch

    async def fetch(*args, **kwargs):
        fetched = await real_fetch(*args, **kwargs)
        return await reply(fetched) if fetched.jobs else fetched

    monkeypatch.setattr(queue.store, "fetch", fetch)


async def test_rescue__a_claim_whose_reply_was_lost_goes_back_without_a_retry(
    queue: JobQueue, sql, monkeypatch
) -> None:
    """The claim committed, then the connection broke: the worker never got the job. Its own
    rescuer gives it back (heartbeat 3600 s: nothing else would within the hang bound)."""
    await queue.create_queue("q", heartbeat_seconds=3600)
    lost: list[int] = []

    async def reply(fetched):
        if not lost:
            lost.extend(job.id for job in fetched.jobs)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return fetched

    intercept_claims(queue, monkeypatch, reply)
    ran: list[int] = []

    async def handler(job) -> None:
        ran.append(job.id)

    job_id = await queue.send("q", {})
    await queue.work("q", handler, concurrency=1)

    async def completed() -> bool:
        return (await queue.get_job(job_id)).state is JobState.COMPLETED

    await wait_for(completed, within=60)  # a hang bound, not a speed check
    assert lost == [job_id] and ran == [job_id], "the lost claim never ran; the next one did"
    job = await queue.get_job(job_id)
    assert (job.attempt, job.retry_count) == (2, 0)
    first, _ = await queue.get_attempts(job_id)
    assert first["outcome"] == "not started" and "was lost" in first["error"]["message"]


async def test_rescue__a_claim_whose_reply_is_on_its_way_is_left_alone(
    queue: JobQueue, sql, monkeypatch
) -> None:
    await queue.create_queue("q")
    await queue.create_queue("other")
    arrive = asyncio.Event()

    async def reply(fetched):
        await arrive.wait()
        return fetched

    ran: list[int] = []

    async def handler(job) -> None:
        ran.append(job.id)

    await queue.work("q", handler, concurrency=1)

    async def synced() -> bool:
        return all(worker.synced is not None for worker in queue._workers)

    await wait_for(synced, within=60)  # the worker's first (empty) poll came back
    intercept_claims(queue, monkeypatch, reply)
    job_id = await queue.send("q", {})

    async def claimed() -> bool:
        return (await queue.get_job(job_id)).state is JobState.ACTIVE

    await wait_for(claimed, within=60)
    assert await queue.rescue() == 0, "committed, but the reply has not arrived yet"
    other = await claim_as(sql, queue, "other", queue.worker_id, running=False)
    assert await queue.rescue() == 0, "no worker of ours on that queue has synced"
    arrive.set()

    async def completed() -> bool:
        return (await queue.get_job(job_id)).state is JobState.COMPLETED

    await wait_for(completed, within=60)
    assert ran == [job_id] and (await queue.get_job(job_id)).attempt == 1
    assert (await queue.get_job(other)).state is JobState.ACTIVE


async def test_rescue__an_unstarted_attempt_whose_key_is_queued_again_leaves_it_the_work(
    queue: JobQueue, sql
) -> None:
    """Giving it back would put two jobs of one singleton key in the queue (0044): its attempt
    fails instead, names the queued one, and the rest of the pass goes on."""
    await queue.create_queue("q", retry_limit=3, heartbeat_seconds=300)
    await add_worker(sql, "dead", locked=True, silent_for=10)
    ahead = await queue.send("q", {}, singleton_key="aliases-1")
    await sql.execute(
        "UPDATE queue.job SET state = 'active', attempt = 1, started_on = now(), worker = 'dead',"
        " running = false WHERE id = %s",
        ahead,
    )
    queued = await queue.send("q", {}, singleton_key="aliases-1")
    other = await claim_as(sql, queue, "q", "dead", running=False)

    assert await queue.rescue() == 2

    job = await queue.get_job(ahead)
    assert job.state is JobState.FAILED
    assert job.output["not_retried"] == f"job {queued}, queued with the same key, does this work"
    assert (await queue.get_job(queued)).state is JobState.CREATED
    assert (await queue.get_job(other)).state is JobState.RETRY  # given back as before
