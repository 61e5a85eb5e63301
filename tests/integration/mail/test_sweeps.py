"""The nightly sweeps: mail left unextracted is extracted, mail left without search rows is
indexed (extract-contacts and index-messages, `{"sweep": true}`)."""

from __future__ import annotations

import logging
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import (
    analyze_relationships,
    extract_contacts,
    index_messages,
    runtime,
    sync_emails,
)
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.helpers import work_until_idle
from tests.integration.mail.conftest import message, write_mbox


async def rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


async def stored_two_hours_ago(pool: AsyncConnectionPool, where: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            f"UPDATE crm.messages SET created_on = created_on - interval '2 hours' WHERE {where}"
        )


async def sweep(queue: JobQueue, registry: Registry, name: str) -> dict:
    """Send `name`'s nightly sweep, work the queue until idle; the sweep's output."""
    job_id = await queue.send(name, {"sweep": True})
    assert job_id is not None
    await work_until_idle(queue, registry, (name,))
    job = await queue.get_job(job_id)
    assert job is not None and job.output is not None, job
    return job.output


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
    await stored_two_hours_ago(pool, "subject IN ('hello 1', 'hello 3')")

    output = await sweep(queue, registry, index_messages.QUEUE)

    assert output == {"users": 2, "messages": 2, "jobs": 2}
    searchable = await rows(
        pool,
        "SELECT m.subject FROM crm.message_search s JOIN crm.messages m ON m.id = s.message_id"
        " ORDER BY 1",
    )
    assert searchable == [("hello 1",), ("hello 3",)]  # "hello 2" is an hour young: its run's
    again = await sweep(queue, registry, index_messages.QUEUE)
    assert again == {"users": 0, "messages": 0, "jobs": 0}


async def test_extraction_sweep__extracts_mail_whose_batch_failed_for_good(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    settings: Settings,
    file_connection,
    tmp_path: Path,
) -> None:
    """A batch whose extract-contacts job failed for good leaves its mail unextracted (no
    links, no contacts from it), and the analysis passes it over after an hour; the sweep sends
    the mail stored over an hour ago again, leaves younger mail to the jobs still coming, and
    the next analysis counts what it found."""
    sent = [
        message(n).replace(b"From: Alice <alice@example.com>\nTo: bob@example.com",
                           b"From: Owner <owner@example.com>\nTo: Carol <carol@example.com>")
        for n in range(3)
    ]  # fmt: skip
    connection = await file_connection(write_mbox(tmp_path / "a.mbox", sent))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    async with pool.connection() as conn:  # the batch's job, failed for good and gone
        await conn.execute("DELETE FROM queue.job WHERE name = %s", (extract_contacts.QUEUE,))
    await stored_two_hours_ago(pool, "subject <> 'hello 2'")
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    passed_over = await analyze_relationships.analyze_now(deps, SystemClock(), connection.user_id)
    assert (passed_over["stuck"], passed_over["contacts"]) == (2, 0)

    output = await sweep(queue, registry, extract_contacts.QUEUE)

    assert output == {"users": 1, "messages": 2, "jobs": 1}
    pending = await rows(
        pool,
        "SELECT m.subject FROM crm.message_pending p JOIN crm.messages m ON m.id = p.message_id",
    )
    assert pending == [("hello 2",)]
    linked = await rows(
        pool,
        "SELECT DISTINCT m.subject FROM crm.contact_links l JOIN crm.messages m"
        " ON m.id = l.message_id ORDER BY 1",
    )
    assert linked == [("hello 0",), ("hello 1",)]
    counted = await analyze_relationships.analyze_now(deps, SystemClock(), connection.user_id)
    assert (counted["contacts"], counted["interactions"]) == (1, 2)
    assert await rows(pool, "SELECT sent FROM crm.relationships") == [(2,)]


async def test_sweeps__scheduled_nightly_once(queue: JobQueue, registry: Registry) -> None:
    await runtime.install_schedules(queue, registry)
    await runtime.install_schedules(queue, registry)  # a second process starting
    for kind in (extract_contacts, index_messages):
        nightly = [s for s in await queue.get_schedules() if s["name"] == kind.QUEUE]
        assert [(s["cron"], s["data"]) for s in nightly] == [(kind.NIGHTLY_CRON, {"sweep": True})]


async def test_index_job__analyses_the_search_rows_once_a_bulk_of_them_came(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry
) -> None:
    """The search rows are written after the run's analysis has analysed the mail tables, so
    an import's index jobs analyse them (issue 19: without statistics a common word's search
    took 270 ms instead of 24 at 1M messages): once enough came since the last time, not on
    every job."""
    async with pool.connection() as conn:  # a bulk of search rows, as a big import's jobs leave
        await conn.execute(
            "INSERT INTO crm.message_search (user_id, message_id, date, has_attachment, vector,"
            " pairs) SELECT 1, n, now(), false, to_tsvector('simple', 'word ' || n), '{}'"
            " FROM generate_series(1, 20000) n"
        )
        await conn.execute("SELECT pg_stat_force_next_flush()")
    outputs = []
    for _ in range(2):
        job_id = await queue.send(index_messages.QUEUE, {"message_ids": [], "user_id": 1})
        assert job_id is not None
        await work_until_idle(queue, registry, (index_messages.QUEUE,))
        job = await queue.get_job(job_id)
        assert job is not None and job.output is not None, job
        outputs.append(job.output)
    assert outputs == [{"indexed": 0, "analysed": ["crm.message_search"]}, {"indexed": 0}]
    (analysed,) = (
        await rows(pool, "SELECT reltuples FROM pg_class WHERE relname = 'message_search'")
    )[0]
    assert analysed == 20000
