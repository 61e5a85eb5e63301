"""The only module that runs `crm/calendar/sql/*.sql`: meetings, their attendees, sync state.

Every function takes the caller's connection (and so its transaction).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.calendar.models import ContactMeeting
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.calendar")
Conn = psycopg.AsyncConnection[Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarState:
    """A connection as the calendar sync sees it."""

    connection_id: int
    user_id: int
    kind: str
    contact_policy: str
    cursor: dict[str, Any] | None
    inactive: bool  # paused or being deleted


async def calendar_state(conn: Conn, connection_id: int) -> CalendarState | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["calendar_cursor"], {"connection_id": connection_id})
        row = await cur.fetchone()
    if row is None:
        return None
    return CalendarState(
        connection_id=row["id"],
        user_id=row["user_id"],
        kind=row["kind"],
        contact_policy=row["contact_policy"],
        cursor=row["calendar_cursor"],
        inactive=row["inactive"],
    )


async def finish_sync(
    conn: Conn,
    connection_id: int,
    *,
    cursor: dict[str, Any] | None,
    error: str | None,
    now: datetime,
) -> None:
    """Save the new cursor (None keeps the old one) and the error (None clears it)."""
    params = {
        "connection_id": connection_id,
        "cursor": _dumps(cursor) if cursor is not None else None,
        "error": error,
        "now": now,
    }
    await conn.execute(SQL["calendar_finish"], params)


async def self_addresses(conn: Conn, user_id: int) -> set[str]:
    rows = await (await conn.execute(SQL["self_addresses"], {"user_id": user_id})).fetchall()
    return {str(r[0]).lower() for r in rows}


async def upsert_meetings(
    conn: Conn,
    *,
    user_id: int,
    connection_id: int | None,
    calendar: str,
    rows: Sequence[dict[str, Any]],
    now: datetime,
) -> dict[str, int]:
    """Meeting id by event id for the rows written."""
    if not rows:
        return {}
    params = {
        "user_id": user_id,
        "connection_id": connection_id,
        "calendar": calendar,
        "rows": _dumps(list(rows)),
        "now": now,
    }
    result = await (await conn.execute(SQL["meeting_upsert"], params)).fetchall()
    return {str(event_id): int(meeting_id) for meeting_id, event_id in result}


async def replace_attendees(
    conn: Conn, user_id: int, meeting_ids: Sequence[int], rows: Sequence[dict[str, Any]]
) -> set[str]:
    """Write the meetings' attendees anew; the addresses before and after (to rescore)."""
    if not meeting_ids:
        return set()
    params = {"meeting_ids": list(meeting_ids)}
    old = await (await conn.execute(SQL["attendees_delete"], params)).fetchall()
    if rows:
        params = {"user_id": user_id, "rows": _dumps(list(rows))}
        await conn.execute(SQL["attendees_insert"], params)
    return {r[0] for r in old} | {r["address"] for r in rows}


async def mark_rescore(conn: Conn, user_id: int, addresses: Sequence[str]) -> None:
    if addresses:
        params = {"user_id": user_id, "addresses": sorted(set(addresses))}
        await conn.execute(SQL["rescore_mark"], params)


async def delete_meetings(
    conn: Conn, user_id: int, calendar: str, event_ids: Sequence[str], *, sweep: bool = False
) -> int:
    """Delete the listed meetings (`sweep`: every other meeting of the calendar)."""
    if not event_ids and not sweep:
        return 0
    params = {
        "user_id": user_id,
        "calendar": calendar,
        "event_ids": sorted(set(event_ids)),
        "sweep": sweep,
    }
    row = await (await conn.execute(SQL["meetings_delete"], params)).fetchone()
    return int(row[0]) if row else 0


async def show_contacts(conn: Conn, names: dict[int, str], now: datetime) -> set[int]:
    """Make these contacts visible (named when nameless); those shown by this call."""
    if not names:
        return set()
    rows = [{"id": i, "name": n} for i, n in sorted(names.items())]
    params = {"rows": _dumps(rows), "now": now}
    result = await (await conn.execute(SQL["contacts_show"], params)).fetchall()
    return {int(i) for i, shown in result if shown}


async def contact_meetings(
    conn: Conn,
    user_id: int,
    contact_id: int,
    *,
    limit: int,
    before: datetime | None = None,
    since: datetime | None = None,
) -> list[ContactMeeting]:
    """The contact's meetings, newest first, started before `before` and from `since`."""
    params = {
        "user_id": user_id,
        "contact_id": contact_id,
        "limit": limit,
        "before": before,
        "since": since,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["contact_meetings"], params)
        return [ContactMeeting.from_row(r) for r in await cur.fetchall()]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
