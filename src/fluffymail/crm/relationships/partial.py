"""A ranking made while the user's first import still runs covers only part of the mail: how
much of it (for the label on the contacts page and `contacts top`), and when to rank early."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from fluffymail.db.sql import load_sql

__all__ = ["EARLY_EVERY", "Partial", "partial_ranking", "wants_early_ranking"]

SQL = load_sql("fluffymail.crm.relationships")
Conn = psycopg.AsyncConnection[Any]
EARLY_EVERY = timedelta(seconds=10)  # until something is ranked: one analysis this often at most


@dataclass(frozen=True, slots=True, kw_only=True)
class Partial:
    """The ranking covers `analyzed` of the ~`expected` messages the running import will hold."""

    analyzed: int
    expected: int

    @property
    def label(self) -> str:
        return (
            f"Ranking from {self.analyzed:,} of ~{self.expected:,} messages so far;"
            " import still running"
        )


async def partial_ranking(conn: Conn, user_id: int) -> Partial | None:
    """How much mail the ranking covers while a connection's first import runs; else None."""
    row = await (await conn.execute(SQL["rel_partial"], {"user_id": user_id})).fetchone()
    if row is None:
        return None
    analyzed = int(row[0])
    return Partial(analyzed=analyzed, expected=max(int(row[1]), analyzed))


async def wants_early_ranking(
    conn: Conn, user_id: int, now: datetime, *, in_run: bool = False
) -> bool:
    """True while the user's first import runs (its read, or `in_run`: a batch of a sync's run
    being extracted), nothing is ranked yet and no analysis ran in the last `EARLY_EVERY`."""
    params = {"user_id": user_id, "since": now - EARLY_EVERY, "in_run": in_run}
    row = await (await conn.execute(SQL["rel_wants_early_ranking"], params)).fetchone()
    return bool(row and row[0])
