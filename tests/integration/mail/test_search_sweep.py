"""The nightly sweep of index-messages: mail left without search rows gets them."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.jobs import index_messages, runtime, sync_emails
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.helpers import work_until_idle
from tests.integration.mail.conftest import message, write_mbox


async def rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


async def test_sweep__indexes_mail_left_unsearchable_for_an_hour_and_nothing_younger(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    """A sync whose index job failed for good leaves its mail out of search; the sweep finds
    the mail stored over an hour ago, sends it to be indexed, and leaves the run's newer mail."""
    first = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), message(2)]))
    other = await file_connection(write_mbox(tmp_path / "b.mbox", [message(3)]), "b@example.com")
    for connection in (first, other):
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
        )  # stored, search rows deferred; no extraction or index job is worked here
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.messages SET created_on = created_on - interval '2 hours'"
            " WHERE subject IN ('hello 1', 'hello 3')"
        )
    sweep = await queue.send(index_messages.QUEUE, {"sweep": True})
    assert sweep is not None

    await work_until_idle(queue, registry, (index_messages.QUEUE,))

    job = await queue.get_job(sweep)
    assert job is not None and job.output == {"users": 2, "messages": 2, "jobs": 2}
    searchable = await rows(
        pool,
        "SELECT m.subject FROM crm.message_search s JOIN crm.messages m ON m.id = s.message_id"
        " ORDER BY 1",
    )
    assert searchable == [("hello 1",), ("hello 3",)]  # "hello 2" is an hour young: its run's
    again = await queue.send(index_messages.QUEUE, {"sweep": True})
    assert again is not None
    await work_until_idle(queue, registry, (index_messages.QUEUE,))
    job = await queue.get_job(again)
    assert job is not None and job.output == {"users": 0, "messages": 0, "jobs": 0}


async def test_sweep__scheduled_nightly_once(queue: JobQueue, registry: Registry) -> None:
    await runtime.install_schedules(queue, registry)
    await runtime.install_schedules(queue, registry)  # a second process starting
    nightly = [s for s in await queue.get_schedules() if s["name"] == index_messages.QUEUE]
    assert [(s["cron"], s["data"]) for s in nightly] == [
        (index_messages.NIGHTLY_CRON, {"sweep": True})
    ]
