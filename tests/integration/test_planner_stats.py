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
