"""A mailbox whose mail ended long ago is scored as of its own last activity, not as of today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from fluffymail.db.sql import load_sql

__all__ = ["ARCHIVE_AFTER", "ScoringTime", "scoring_time"]

SQL = load_sql("fluffymail.crm.relationships")
ARCHIVE_AFTER = timedelta(days=90)  # no mail for this long: the mailbox is an archive
Conn = psycopg.AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class ScoringTime:
    """`at`: the time scores are computed as of; `archive_ends`: the date of the archive's last
    mail when the mailbox is an archive (else None, and `at` is now)."""

    at: datetime
    archive_ends: datetime | None = None


async def scoring_time(conn: Conn, user_id: int, now: datetime) -> ScoringTime:
    """Now, or for an archive (latest mail older than `ARCHIVE_AFTER`) the day after its last
    mail: an archive that ends in 2002 ranks people as they stood in 2002, not all at zero."""
    params = {"user_id": user_id, "now": now}
    row = await (await conn.execute(SQL["rel_latest_mail"], params)).fetchone()
    latest = row[0] if row else None
    if latest is None or now - latest < ARCHIVE_AFTER:
        return ScoringTime(at=now)
    return ScoringTime(at=latest + timedelta(days=1), archive_ends=latest)
