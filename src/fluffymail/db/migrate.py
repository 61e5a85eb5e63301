"""Forward-only schema migrations, applied in order under an advisory lock.

Migrations are `migrations/NNNN_name.sql`; each applied version is recorded in
`schema_migrations`. Concurrent runners serialise on the lock, so two instances starting
at once apply each migration exactly once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

log = logging.getLogger(__name__)
LOCK_KEY = 0x666C7566  # "fluf": one advisory lock for schema changes
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    root = resources.files("fluffymail.db").joinpath("migrations")
    found = []
    for entry in root.iterdir():
        if match := _NAME.match(entry.name):
            found.append(
                Migration(version=int(match[1]), name=match[2], sql=entry.read_text("utf-8"))
            )
    return sorted(found, key=lambda m: m.version)


async def applied_versions(conn: psycopg.AsyncConnection) -> set[int]:
    exists = await (await conn.execute("SELECT to_regclass('public.schema_migrations')")).fetchone()
    if not exists or exists[0] is None:
        return set()
    rows = await (await conn.execute("SELECT version FROM schema_migrations")).fetchall()
    return {row[0] for row in rows}


async def pending(conn: psycopg.AsyncConnection) -> list[Migration]:
    done = await applied_versions(conn)
    return [m for m in available() if m.version not in done]


async def upgrade(conn: psycopg.AsyncConnection) -> list[Migration]:
    """Apply all pending migrations in one transaction; return the ones applied."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_on timestamptz NOT NULL DEFAULT now())"
        )
        todo = await pending(conn)
        for migration in todo:
            await conn.execute(migration.sql.encode())  # bytes: run as a multi-statement script
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            log.info(
                "migration applied",
                extra={
                    "action": "db.migrate",
                    "version": migration.version,
                    "migration": migration.name,
                },
            )
    return todo


async def current_version(conn: psycopg.AsyncConnection) -> int:
    done = await applied_versions(conn)
    return max(done, default=0)
