"""ANALYZE after a bulk change: only tables changed past the thresholds, once."""

from __future__ import annotations

import psycopg

from fluffymail.db import stats


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
