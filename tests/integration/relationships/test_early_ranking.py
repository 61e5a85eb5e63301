"""A first import is ranked from its first extracted mail, not only when it ends, and the
ranking is labelled partial until it ends (issue 19: a partial answer within 60 s)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.relationships import analysis, partial
from fluffymail.crm.relationships import repo as relationships_repo
from fluffymail.jobs import analyze_relationships
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry

from .conftest import NOW, Analyze, Load, Rows, exchange, extract_all

QUEUE = "extract-contacts"


async def test_first_extracted_mail_of_an_import_is_ranked_at_once_and_labelled_partial(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    load: Load,
    analyze: Analyze,
    rows: Rows,
) -> None:
    async def execute(statement: str, *params: object) -> None:
        async with pool.connection() as conn:
            await conn.execute(statement, params or None)

    mails = exchange("alice@partner.example", "lunch", 10, replies=3)
    user_id = await load(mails, extract=False)
    # as if the sync were still reading: its first import has not finished
    await execute(
        "UPDATE crm.connections SET status = 'syncing', last_synced_on = NULL,"
        " remaining_estimate = 1000 WHERE user_id = %s",
        user_id,
    )
    await execute("DELETE FROM queue.job WHERE name = 'analyze-relationships'")

    await queue.work(QUEUE, registry[QUEUE].handler)
    async with asyncio.timeout(20):
        while await rows.one("SELECT count(*) FROM crm.message_pending"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    sent = await rows.all(
        "SELECT data, start_after <= now() FROM queue.job WHERE name = 'analyze-relationships'"
    )
    assert sent == [({"user_id": user_id}, True)]  # at once, not after the debounce
    async with pool.connection() as conn:
        before = await partial.partial_ranking(conn, user_id)
    assert before is not None and before.analyzed == 0

    await analyze(user_id)

    async with pool.connection() as conn:
        assert not await partial.wants_early_ranking(conn, user_id, NOW)  # ranked: not again
        during = await partial.partial_ranking(conn, user_id)
    stored = await rows.one("SELECT count(*) FROM crm.messages WHERE user_id = %s", user_id)
    assert during == partial.Partial(analyzed=stored, expected=stored + 1000)
    assert during.label == (
        f"Ranking from {stored:,} of ~{stored + 1000:,} messages so far; import still running"
    )
    await execute("UPDATE crm.connections SET status = 'ok', last_synced_on = now()")
    async with pool.connection() as conn:
        assert await partial.partial_ranking(conn, user_id) is None


async def test_the_end_of_an_import_starts_a_waiting_analysis_at_once(
    queue: JobQueue, registry: Registry, load: Load, rows: Rows
) -> None:
    del registry
    user_id = await load(exchange("alice@partner.example", "lunch", 10), extract=False)
    async with queue.pool.connection() as conn:
        await conn.execute("DELETE FROM queue.job WHERE name = 'analyze-relationships'")
        await analyze_relationships.enqueue(queue, user_id, conn=conn, debounce=600)

    await load(exchange("bob@partner.example", "deal", 5), extract=False)

    waiting = await rows.all(
        "SELECT start_after <= now() FROM queue.job WHERE name = 'analyze-relationships'"
    )
    assert waiting == [(True,)]  # the same job, started now: not a second one


async def test_an_analysis_waiting_for_extraction_starts_when_the_last_batch_is_done(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, load: Load, rows: Rows
) -> None:
    """New mail of an imported mailbox: the analysis that found it not yet extracted waits for
    its debounce; the extraction batch that leaves nothing unextracted starts it at once (no
    second analysis is sent)."""
    user_id = await load(exchange("alice@partner.example", "lunch", 10, replies=3))
    await load(exchange("bob@partner.example", "deal", 5), extract=False)
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM queue.job WHERE name = 'analyze-relationships'")
        await analyze_relationships.enqueue(queue, user_id, conn=conn, debounce=600)

    await queue.work(QUEUE, registry[QUEUE].handler)
    async with asyncio.timeout(20):
        while await rows.one("SELECT count(*) FROM crm.message_pending"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        while not await rows.one(  # noqa: ASYNC110
            "SELECT bool_and(start_after <= now()) FROM queue.job"
            " WHERE name = 'analyze-relationships'"
        ):
            await asyncio.sleep(0.05)
    assert (
        await rows.one("SELECT count(*) FROM queue.job WHERE name = 'analyze-relationships'") == 1
    )


async def test_a_run_that_found_mail_unextracted_starts_the_next_if_extraction_finished_meanwhile(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    load: Load,
    rows: Rows,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last extraction batch commits while an analysis runs: it finds no queued run to
    hurry, so the run that left mail for later checks again after its own commit."""
    user_id = await load(exchange("alice@partner.example", "lunch", 10, replies=3))
    await load(exchange("bob@partner.example", "deal", 5), extract=False)
    real = analysis.analyze_user

    async def extraction_finishes_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        await extract_all(pool)
        return result

    monkeypatch.setattr(analysis, "analyze_user", extraction_finishes_meanwhile)
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM queue.job WHERE name = 'analyze-relationships'")
    await analyze_relationships.enqueue(queue, user_id, debounce=0)
    [job] = await queue.fetch(analyze_relationships.QUEUE)
    output = await registry[analyze_relationships.QUEUE].handler(job)
    assert output["pending"] > 0
    assert await rows.all(
        "SELECT start_after <= now() FROM queue.job"
        " WHERE name = 'analyze-relationships' AND state = 'created'"
    ) == [(True,)]


async def test_caught_up_is_no_while_a_sync_of_the_user_runs(
    pool: AsyncConnectionPool, load: Load
) -> None:
    """A big import's batches do not each scan the extracted mail: while a sync runs the
    answer is no at once (the sync's end starts the analysis)."""
    user_id = await load(exchange("alice@partner.example", "lunch", 4))
    async with pool.connection() as conn:
        assert await relationships_repo.extraction_caught_up(conn, user_id, NOW)
        await conn.execute("UPDATE crm.connections SET status = 'syncing'")
        assert not await relationships_repo.extraction_caught_up(conn, user_id, NOW)


async def test_early_ranking__a_runs_batches_rank_early_after_the_read_too(pool) -> None:
    """The read of a sync's run may end long before its extraction: while nothing is ranked,
    the run's own batches still ask for a partial ranking (the connection no longer syncs)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO crm.users (email, name) VALUES ('early@example.com', 'E') RETURNING id"
        )
        (user_id,) = await cur.fetchone()
        assert not await partial.wants_early_ranking(conn, user_id, NOW)  # no import reads
        assert await partial.wants_early_ranking(conn, user_id, NOW, in_run=True)
