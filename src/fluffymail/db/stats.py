"""Planner statistics after a bulk load: ANALYZE the tables a big change left without them, and
VACUUM those read by index-only scans whose visibility map it left behind."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from fluffymail.db.sql import load_sql

__all__ = ["VACUUM_THRESHOLDS", "Thresholds", "refresh", "vacuum"]

SQL = load_sql("fluffymail.db")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A table is re-analysed once this many rows changed since its last ANALYZE: at least
    `min_rows`, and at least `fraction` of its rows (autovacuum's own rule, made eager)."""

    min_rows: int = 10_000
    fraction: float = 0.2


# A VACUUM after inserts visits only the pages not yet all-visible and skips the indexes when
# nothing died, so its cost follows the rows since the last one: it can run far more often
# than ANALYZE. At a fifth, a load's last 20% stayed off the visibility map once it ended
# (237k of 1.7M links at 1M messages: the contacts page's p95 50 -> 93 ms).
VACUUM_THRESHOLDS = Thresholds(fraction=0.02)


async def refresh(
    conn: psycopg.AsyncConnection, tables: Sequence[str], thresholds: Thresholds = Thresholds()
) -> list[str]:
    """ANALYZE each of `tables` ("schema.table") that changed past the thresholds; returns the
    tables analysed. One worker analyses a table at a time; the others skip it.

    The change counts are the server's statistics, which a backend may report up to seconds
    after its commit, so a call right after a load can miss its last rows; the next call
    (the next batch, or the analysis that follows the import) catches them."""
    params = _params(tables, thresholds)
    stale = await (await conn.execute(SQL["stale_tables"], params)).fetchall()
    done = []
    for schema, table in stale:
        name = f"{schema}.{table}"
        async with conn.transaction():
            lock = "SELECT pg_try_advisory_xact_lock(hashtext('fluffymail.analyze'), hashtext(%s))"
            (got,) = await (await conn.execute(lock, (name,))).fetchone()  # type: ignore[misc]
            if not got:
                continue
            started = time.monotonic()
            await conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
        log.info(
            "table analysed after a bulk change",
            extra={
                "action": "db.analyzed",
                "table": name,
                "seconds": round(time.monotonic() - started, 3),
            },
        )
        done.append(name)
    return done


async def vacuum(
    conn: psycopg.AsyncConnection,
    tables: Sequence[str],
    thresholds: Thresholds = VACUUM_THRESHOLDS,
) -> list[str]:
    """VACUUM each of `tables` with many rows inserted (or left dead) since its last vacuum, so
    that index-only scans over it skip the heap again; returns the tables vacuumed. A table
    another session is vacuuming is skipped (SKIP_LOCKED), not waited for. `conn` must be in
    autocommit mode (VACUUM runs outside a transaction)."""
    params = _params(tables, thresholds)
    behind = await (await conn.execute(SQL["unvacuumed_tables"], params)).fetchall()
    done = []
    for schema, table in behind:
        started = time.monotonic()
        name = sql.Identifier(schema, table)
        await conn.execute(sql.SQL("VACUUM (SKIP_LOCKED) {}").format(name))
        log.info(
            "table vacuumed after a bulk change",
            extra={
                "action": "db.vacuumed",
                "table": f"{schema}.{table}",
                "seconds": round(time.monotonic() - started, 3),
            },
        )
        done.append(f"{schema}.{table}")
    return done


def _params(tables: Sequence[str], thresholds: Thresholds) -> dict[str, object]:
    return {
        "tables": list(tables),
        "min_rows": thresholds.min_rows,
        "fraction": thresholds.fraction,
    }
