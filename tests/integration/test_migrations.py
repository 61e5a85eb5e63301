"""Migrations: versions recorded, concurrent runners safe, replay equals the declared schema.sql."""

from __future__ import annotations

import asyncio
from importlib import resources

import psycopg

from fluffymail.db import migrate

CATALOG = {
    "columns": """SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
                  FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
                  AND table_name <> 'schema_migrations'""",
    "indexes": """SELECT schemaname, indexname, indexdef FROM pg_indexes
                  WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'schema_migrations'""",
    "constraints": """SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                      JOIN pg_namespace n ON n.oid = c.connamespace
                      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.conrelid::regclass::text <> 'schema_migrations'""",
    "functions": """SELECT n.nspname, p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')""",
    "enums": """SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid""",
    "storage": """SELECT c.relname, a.attname, a.attcompression, a.attstorage, c.reloptions::text
                  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND a.attnum > 0
                  AND NOT a.attisdropped  -- a dropped column's placeholder (0031, 0032) is no schema
                  AND c.relname NOT LIKE 'schema_migrations%'""",
}


async def catalog(url: str) -> dict[str, set[tuple]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return {
            name: set(await (await conn.execute(query)).fetchall())
            for name, query in CATALOG.items()
        }


async def test_upgrade__applies_all_then_nothing_and_records_the_version(empty_db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(empty_db_url, autocommit=True) as conn:
        applied = await migrate.upgrade(conn)
        assert [m.version for m in applied] == [m.version for m in migrate.available()]
        assert await migrate.upgrade(conn) == []
        assert await migrate.current_version(conn) == migrate.available()[-1].version
        assert await migrate.pending(conn) == []


async def test_upgrade__two_instances_at_once_apply_each_migration_once(empty_db_url: str) -> None:
    async def one() -> list[int]:
        async with await psycopg.AsyncConnection.connect(empty_db_url, autocommit=True) as conn:
            return [m.version for m in await migrate.upgrade(conn)]

    results = await asyncio.gather(*(one() for _ in range(4)))
    assert sorted(v for result in results for v in result) == [
        m.version for m in migrate.available()
    ]


async def test_schema_sql__equals_the_replayed_migrations(db_url: str, empty_db_url: str) -> None:
    declared = resources.files("fluffymail.db").joinpath("schema.sql").read_text("utf-8")
    async with await psycopg.AsyncConnection.connect(empty_db_url, autocommit=True) as conn:
        await conn.execute(declared.encode())
    replayed, snapshot = await catalog(db_url), await catalog(empty_db_url)
    for part in CATALOG:
        assert replayed[part] == snapshot[part], (
            f"schema.sql is stale ({part}); run scripts/dump_schema.py"
        )
