"""A database behind a black-holed network: stalls are noticed, connections replaced, finished
work is acknowledged (not re-run) afterwards, and stop() returns whatever happens."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.db.pool import NETWORK_KWARGS
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.watchdog import WatchdogOptions
from tests.blackhole import BlackHoleProxy
from tests.helpers import wait_for

STALL = 1.5  # the watchdog's stall_seconds in these tests

# A connection stuck on the black-holed network is abandoned, by design, when it cannot be
# closed in time (stop() and the watchdog never wait on the network): Python then collects it
# still open and psycopg warns. That is the behaviour under test, not a leak of a healthy run.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*was deleted while still open:ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


@pytest.fixture(autouse=True)
def collect_abandoned_connections() -> Iterator[None]:
    """Collect what a test abandoned while its warning filters apply, not in a later test."""
    yield
    gc.collect()


@pytest.fixture
async def proxy(db_url: str) -> AsyncIterator[BlackHoleProxy]:
    proxy = BlackHoleProxy(db_url)
    await proxy.start()
    yield proxy
    proxy.heal()
    await proxy.close()


@pytest.fixture
async def far_queue(proxy: BlackHoleProxy) -> AsyncIterator[Callable[..., JobQueue]]:
    """JobQueues whose connections all go through the proxy."""
    pool = AsyncConnectionPool(
        proxy.url,
        min_size=1,
        max_size=8,
        kwargs={"autocommit": True, **NETWORK_KWARGS, "connect_timeout": 2},
        timeout=10,
        open=False,
    )
    await pool.open(wait=True)
    made: list[JobQueue] = []

    def make(**overrides: Any) -> JobQueue:
        options = {
            "poll_interval": 0.05,
            "rescue_interval": 0.2,
            "heartbeat_interval": 0.1,
            "watchdog": WatchdogOptions(stall_seconds=STALL, interval=0.2),
            "shutdown_timeout": 2.0,
            **overrides,
        }
        made.append(queue := JobQueue(pool, **options))
        return queue

    yield make
    proxy.heal()
    for queue in made:
        await queue.stop(grace=0)
    await asyncio.wait_for(pool.close(), 10)


def reachable_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any(
        record.getMessage().startswith("database reachable again") for record in caplog.records
    )


def unreachable_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any(
        record.getMessage().startswith("database unreachable for") for record in caplog.records
    )


async def test_stalled_connections_are_dropped_and_replaced(
    far_queue, proxy: BlackHoleProxy, queue: JobQueue, sql, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="fluffymail.queue")
    far = far_queue()
    await queue.create_queue("q")
    ran: list[int] = []

    async def handler(job: Job) -> None:
        ran.append(job.id)

    await far.work("q", handler)
    first = await queue.send("q", {})
    await wait_for(lambda: _state_is(sql, first, "completed"))

    proxy.black_hole()
    await wait_for(_true(lambda: unreachable_logged(caplog)), within=30)
    proxy.heal()
    second = await queue.send("q", {})
    await wait_for(lambda: _state_is(sql, second, "completed"), within=60)
    # the watchdog notices the recovery on its next look, which may come after the job's ack
    await wait_for(_true(lambda: reachable_logged(caplog)), within=10)
    assert ran == [first, second]


async def test_jobs_finished_during_a_stall_are_acked_after_it_and_ran_once(
    far_queue, proxy: BlackHoleProxy, queue: JobQueue, sql, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="fluffymail.queue")
    far = far_queue()
    await queue.create_queue("q", heartbeat_seconds=1, retry_limit=3)
    gate = asyncio.Event()
    runs: list[tuple[int, int]] = []

    async def handler(job: Job) -> None:
        await gate.wait()
        runs.append((job.id, job.attempt))

    ids = await queue.insert("q", [{}] * 10)
    await far.work("q", handler, concurrency=10)
    await wait_for(_count(sql, "SELECT count(*) FROM queue.job WHERE state = 'active'", 10))

    proxy.black_hole()
    gate.set()  # every handler finishes during the stall; their acks wait in the worker
    await wait_for(_true(lambda: len(runs) == 10))
    await asyncio.sleep(3 * STALL)  # longer than the heartbeat (1 s): the leases have lapsed
    proxy.heal()

    done = "SELECT count(*) FROM queue.job WHERE state = 'completed'"
    await wait_for(_count(sql, done, 10), within=60)
    await asyncio.sleep(1)  # a rescuer that was going to re-run something has had its chance
    assert sorted(runs) == sorted((job_id, 1) for job_id in ids), "every handler ran once"
    assert (
        await sql.one("SELECT count(*) FROM queue.job WHERE attempt = 1 AND state = 'completed'")
        == 10
    )


async def test_stop_returns_when_a_handler_swallows_cancellation(far_queue, queue, sql) -> None:
    far = far_queue()
    await queue.create_queue("q")
    started, let_go = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []

    async def stubborn(job: Job) -> None:
        tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        started.set()
        while not let_go.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # ignores cancellation until the test lets it go

    await queue.send("q", {})
    await far.work("q", stubborn)
    await asyncio.wait_for(started.wait(), 10)
    try:
        async with asyncio.timeout(30):  # a hang bound; the deadline is grace + 2 s
            assert await far.stop(grace=0.2) is False, "a stop that abandoned work says so"
        assert await sql.one("SELECT state::text FROM queue.job") == "retry", "job released"
    finally:
        let_go.set()
        tasks[0].cancel()


async def test_stop_returns_when_the_database_is_black_holed(
    far_queue, proxy: BlackHoleProxy, queue, sql
) -> None:
    far = far_queue()
    await queue.create_queue("q")
    started = asyncio.Event()

    async def slow(job: Job) -> None:
        started.set()
        await asyncio.sleep(60)

    await queue.send("q", {})
    await far.work("q", slow)
    await asyncio.wait_for(started.wait(), 10)
    proxy.black_hole()
    async with asyncio.timeout(30):  # a hang bound; the deadline is grace + 2 s
        await far.stop(grace=0.2)
    proxy.heal()


def _true(check: Callable[[], bool]) -> Callable[[], Any]:
    async def predicate() -> bool:
        return check()

    return predicate


def _count(sql, query: str, expected: int) -> Callable[[], Any]:
    async def predicate() -> bool:
        return await sql.one(query) == expected

    return predicate


async def _state_is(sql, job_id: int | None, state: str) -> bool:
    return await sql.one("SELECT state::text FROM queue.job WHERE id = %s", job_id) == state


async def test_rescue_spares_lapsed_attempts_this_worker_still_holds(
    make_queue, queue: JobQueue, sql
) -> None:
    holder = make_queue(rescue_interval=3600)
    await queue.create_queue("q", heartbeat_seconds=1)
    gate = asyncio.Event()
    runs: list[int] = []

    async def handler(job: Job) -> None:
        runs.append(job.id)
        await gate.wait()

    job_id = await queue.send("q", {})
    await holder.work("q", handler)
    await wait_for(lambda: _state_is(sql, job_id, "active"))
    await holder._heartbeats.stop()  # as during a stall: the lease lapses, the worker lives on
    await sql.execute("UPDATE queue.job SET heartbeat_on = now() - interval '1 minute'")
    assert await holder.rescue() == 0, "the worker that holds the attempt does not rescue it"
    gate.set()
    await wait_for(lambda: _state_is(sql, job_id, "completed"))
    assert runs == [job_id]
