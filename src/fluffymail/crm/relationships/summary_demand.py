"""Which relationships get a summary: the user's top ones, and any contact page opened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from fluffymail.db.sql import load_sql

__all__ = ["Demand", "record_view", "wanted"]

SQL = load_sql("fluffymail.crm.relationships")
Conn = psycopg.AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class Demand:
    """A summary is written for the `top` strongest relationships of a user, and for contacts
    whose page was opened within `viewed_within_days`; the rest wait until someone looks."""

    top: int = 50
    viewed_within_days: int = 30


async def wanted(
    conn: Conn, user_id: int, contact_ids: Sequence[int], demand: Demand = Demand()
) -> list[int]:
    """The contacts among `contact_ids` (whose relationship changed) worth a summary now."""
    if not contact_ids:
        return []
    params = {
        "user_id": user_id,
        "ids": sorted(set(contact_ids)),
        "top": demand.top,
        "viewed_within_days": demand.viewed_within_days,
    }
    return [row[0] for row in await (await conn.execute(SQL["summary_wanted"], params)).fetchall()]


async def record_view(conn: Conn, user_id: int, contact_id: int) -> bool:
    """Record the user opening the contact's page; True when its summary is missing or was
    written before the relationship's latest mail (so one should be written now)."""
    params = {"user_id": user_id, "contact_id": contact_id}
    row = await (await conn.execute(SQL["summary_record_view"], params)).fetchone()
    return bool(row and row[0])
