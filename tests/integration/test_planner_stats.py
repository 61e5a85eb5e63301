"""ANALYZE after a bulk change: only tables changed past the thresholds, once."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool

from fluffymail.db import stats
from fluffymail.jobs import planner_stats


async def test_refresh__analyses_a_bulk_loaded_table_and_leaves_the_rest(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE public.loaded (n int); CREATE TABLE public.quiet (n int)")
        await conn.execute("INSERT INTO public.loaded SELECT generate_series(1, 20000)")
        await conn.execute("INSERT INTO public.quiet SELECT generate_series(1, 10)")
        await conn.execute("SELECT pg_stat_force_next_flush()")  # report the counts now
    tables = ["public.loaded", "public.quiet", "public.missing"]
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        assert await stats.refresh(conn, tables) == ["public.loaded"]
        (rows,) = await (
            await conn.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'public.loaded'::regclass"
            )
        ).fetchone()
        assert rows == 20000
        assert await stats.refresh(conn, tables) == []  # analysed: nothing changed since


async def test_vacuum__a_bulk_loaded_table_then_index_only_scans_skip_its_heap(
    db_url: str,
) -> None:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE public.links (n int PRIMARY KEY)")
        await conn.execute("CREATE TABLE public.few (n int)")
        await conn.execute("INSERT INTO public.links SELECT generate_series(1, 20000)")
        await conn.execute("INSERT INTO public.few SELECT generate_series(1, 10)")
        await conn.execute("SELECT pg_stat_force_next_flush()")
    tables = ["public.links", "public.few", "public.missing"]
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        assert await stats.vacuum(conn, tables) == ["public.links"]
        (visible,) = await (
            await conn.execute(
                "SELECT relallvisible >= relpages AND relpages > 0 FROM pg_class"
                " WHERE oid = 'public.links'::regclass"
            )
        ).fetchone()
        assert visible  # every page all-visible: an index-only scan reads no heap
        await conn.execute("SELECT pg_stat_force_next_flush()")
        assert await stats.vacuum(conn, tables) == []  # vacuumed: nothing inserted since


async def test_extraction_refresh__the_emptied_pending_list_is_vacuumed_to_nothing(
    pool: AsyncConnectionPool,
) -> None:
    """Every stored message waits in crm.message_pending until extracted (0043): the list is
    emptied as fast as it fills, and the refresh after an extraction batch gives its pages
    back instead of leaving a dead row per message."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.message_pending (user_id, message_id)"
            " SELECT 1, n FROM generate_series(1, 20000) n"
        )
        await conn.execute("DELETE FROM crm.message_pending")
        await conn.execute("SELECT pg_stat_force_next_flush()")
    done = await planner_stats.refresh(pool, planner_stats.EXTRACTION_TABLES)
    assert done.count("crm.message_pending") == 2  # analysed, then vacuumed
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT relpages FROM pg_class WHERE oid = 'crm.message_pending'::regclass"
        )
        assert await cur.fetchone() == (0,)


async def test_vacuum__a_big_table_is_vacuumed_again_long_before_a_fifth_of_it_is_new(
    db_url: str,
) -> None:
    """The last batches of a load must not stay off the visibility map: a links table that
    grew by 12% since its last VACUUM is vacuumed again (ANALYZE waits for 20%)."""
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE public.big (n int PRIMARY KEY)")
        await conn.execute("INSERT INTO public.big SELECT generate_series(1, 100000)")
        await conn.execute("SELECT pg_stat_force_next_flush()")  # counted before the ANALYZE
        await conn.execute("VACUUM ANALYZE public.big")
        await conn.execute("INSERT INTO public.big SELECT generate_series(100001, 112000)")
        await conn.execute("SELECT pg_stat_force_next_flush()")
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        assert await stats.refresh(conn, ["public.big"]) == []
        assert await stats.vacuum(conn, ["public.big"]) == ["public.big"]
