"""The queue behind PgBouncer in transaction mode: jobs run, retry, tick and are rescued with
nothing prepared and no session kept on the pooler; LISTEN and the liveness lock go direct."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.db import migrate
from fluffymail.db.pool import open_pool
from fluffymail.queue import Job, JobQueue, JobState
from fluffymail.queue.maintenance import MaintenanceOptions
from tests.helpers import settled, wait_for
from tests.pgbouncer import through


@pytest.fixture
async def bounced(pgbouncer_url: str, db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """The app's pool as a worker behind PgBouncer opens it (FLUFFYMAIL_DATABASE_POOLER)."""
    url = through(pgbouncer_url, db_url)
    pool = await open_pool(url, min_size=1, max_size=6, name="bounced", pooler=True)
    yield pool
    await pool.close()


@pytest.fixture
async def make_bounced_queue(
    bounced: AsyncConnectionPool,
) -> AsyncIterator[Callable[..., JobQueue]]:
    made: list[JobQueue] = []

    def make(**overrides: object) -> JobQueue:
        options: dict[str, object] = {
            "poll_interval": 0.05,
            "rescue_interval": 0.2,
            "heartbeat_interval": 0.1,
            "listen": False,
            **overrides,
        }
        queue = JobQueue(bounced, **options)  # type: ignore[arg-type]
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.stop(grace=1)


async def test_jobs_complete_and_retry_many_times_over_with_nothing_prepared(
    make_bounced_queue: Callable[..., JobQueue], sql
) -> None:
    queue = make_bounced_queue()
    await queue.create_queue("q", retry_limit=2, retry_delay=0)

    async def handler(job: Job) -> int:
        if job.data % 10 == 0 and job.attempt == 1:
            raise RuntimeError("first try fails")
        return job.data

    # every fetch/ack statement runs far more than psycopg's prepare threshold (5), over
    # transactions PgBouncer spreads across its server connections
    await queue.insert("q", list(range(120)))
    await queue.start()
    await queue.work("q", handler, concurrency=5)
    await wait_for(lambda: settled(queue, "q"), within=60)
    states = await sql.all("SELECT state, attempt, count(*) FROM queue.job GROUP BY 1, 2")
    assert sorted(states) == [("completed", 1, 108), ("completed", 2, 12)]
    assert await sql.one("SELECT locked FROM queue.worker WHERE id = %s", queue.worker_id) is False


async def test_notify_wakes_a_worker_listening_on_the_direct_url(
    make_bounced_queue: Callable[..., JobQueue], db_url: str, sql
) -> None:
    queue = make_bounced_queue(listen=True, listen_url=db_url, poll_interval=30)
    await queue.create_queue("q")
    await queue.start()
    done = asyncio.Event()

    async def handler(job: Job) -> None:
        done.set()

    await queue.work("q", handler)
    await asyncio.sleep(0.2)  # past the first poll: only NOTIFY can wake it within 30 s
    await queue.send("q", {})  # through PgBouncer: its NOTIFY is sent at commit
    await asyncio.wait_for(done.wait(), 10)

    async def locked() -> bool:
        row = "SELECT locked FROM queue.worker WHERE id = %s"
        return bool(await sql.one(row, queue.worker_id))

    await wait_for(locked, within=10)  # its liveness lock lives on the direct session


async def test_a_cron_tick_fires_once(make_bounced_queue: Callable[..., JobQueue], sql) -> None:
    leader = make_bounced_queue(
        maintenance=MaintenanceOptions(leader_ttl=30, schedule_interval=3600, prune_interval=3600)
    )
    assert await leader.maintenance.elect()
    await leader.create_queue("tick")
    await leader.schedule("tick", "* * * * *", {"tick": True})
    await sql.execute(
        "UPDATE queue.schedule SET last_tick = last_tick - interval '1 minute',"
        " next_tick = next_tick - interval '1 minute'"
    )
    assert await leader.maintenance.run_schedules() == 1
    assert await leader.maintenance.run_schedules() == 0
    [job] = await leader.fetch("tick")
    assert job.data == {"tick": True}


async def test_attempts_of_a_lost_worker_are_rescued(
    make_bounced_queue: Callable[..., JobQueue], sql
) -> None:
    queue = make_bounced_queue()
    await queue.create_queue("q", retry_limit=1, heartbeat_seconds=1)
    job_id = await queue.send("q", {})
    # a worker polling behind the pooler holds no liveness lock: its heartbeat is what lapses
    await sql.execute(
        "UPDATE queue.job SET state = 'active', attempt = 1, started_on = now() - interval '1 min',"
        " heartbeat_on = now() - interval '1 min', worker = 'gone', running = true WHERE id = %s",
        job_id,
    )
    assert await queue.rescue() == 1
    job = await queue.get_job(job_id)
    assert job.state is JobState.RETRY and job.retry_count == 1


async def test_migrations_apply_through_pgbouncer(pgbouncer_url: str, empty_db_url: str) -> None:
    url = through(pgbouncer_url, empty_db_url)
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, prepare_threshold=None
    ) as conn:
        applied = await migrate.upgrade(conn)
        assert applied and await migrate.pending(conn) == []


async def test_a_statement_run_often_on_many_connections_is_never_prepared(
    bounced: AsyncConnectionPool,
) -> None:
    # with psycopg's default (prepare after 5 runs) this fails here with "prepared statement
    # _pg3_0 does not exist" or "already exists": PgBouncer < 1.21 does not track them
    async def one(i: int) -> int:
        async with bounced.connection() as conn:
            row = await (await conn.execute("SELECT %s::int + 1", (i,))).fetchone()
            assert row is not None
            return row[0]

    for _ in range(10):
        assert await asyncio.gather(*(one(i) for i in range(8))) == [i + 1 for i in range(8)]
