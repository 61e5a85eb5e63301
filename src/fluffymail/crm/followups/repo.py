"""The only module that runs `crm/followups/sql/*.sql`: cadences, follow-ups, reminders,
settings and outgoing events. Every function takes the caller's connection (and so its
transaction); every query carries the user id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.followups.models import Fired, Followup, Reminder, Wanted
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.followups")
Conn = psycopg.AsyncConnection[Any]


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall() if cur.description else []


async def workspace_of(conn: Conn, user_id: int) -> int:
    return (await _rows(conn, "workspace_of", {"user_id": user_id}))[0]["workspace_id"]


async def set_cadences(
    conn: Conn, user_id: int, contact_ids: Sequence[int], days: int
) -> dict[int, int | None]:
    """Set the cadence; each contact's cadence before (None: it had none)."""
    params = {"user_id": user_id, "contact_ids": sorted(set(contact_ids)), "days": days}
    return {r["contact_id"]: r["before"] for r in await _rows(conn, "cadences_set", params)}


async def clear_cadences(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> dict[int, int]:
    """Clear the cadence; the contacts that had one, with it."""
    params = {"user_id": user_id, "contact_ids": sorted(set(contact_ids))}
    return {r["contact_id"]: r["before"] for r in await _rows(conn, "cadences_clear", params)}


async def cadence_of(conn: Conn, user_id: int, contact_id: int) -> int | None:
    rows = await _rows(conn, "cadence_get", {"user_id": user_id, "contact_id": contact_id})
    return rows[0]["days"] if rows else None


async def due_cadence(
    conn: Conn,
    user_id: int,
    contact_ids: Sequence[int] | None = None,
    *,
    archive_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Cadence follow-ups due, for every contact with a cadence or only `contact_ids`; with
    `archive_at` (an archive's follow-ups are as of then) one never in touch is due by then."""
    ids = sorted(set(contact_ids)) if contact_ids is not None else None
    params = {"user_id": user_id, "contact_ids": ids, "archive_at": archive_at}
    return await _rows(conn, "due_cadence", params)


async def resolve_cadence(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> list[int]:
    """Close the open cadence follow-ups of those contacts that no longer have a cadence."""
    params = {"user_id": user_id, "contact_ids": sorted(set(contact_ids))}
    return [r["id"] for r in await _rows(conn, "cadence_resolve", params)]


async def due_cold(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return await _rows(conn, "due_cold", {"user_id": user_id})


async def due_met(
    conn: Conn, user_id: int, *, now: datetime, due_before: datetime, since: datetime
) -> list[dict[str, Any]]:
    params = {"user_id": user_id, "now": now, "due_before": due_before, "since": since}
    return await _rows(conn, "due_met", params)


async def loop_messages(
    conn: Conn, user_id: int, *, since: datetime, now: datetime, limit: int
) -> list[dict[str, Any]]:
    params = {"user_id": user_id, "since": since, "now": now, "limit": limit}
    return await _rows(conn, "loop_messages", params)


def _reminders(rows: list[dict[str, Any]]) -> list[Reminder]:
    return [Reminder(followup_id=r["id"], at=r["remind_on"]) for r in rows if r["remind_on"]]


async def save_wanted(
    conn: Conn, user_id: int, workspace_id: int, wanted: Sequence[Wanted]
) -> list[Reminder]:
    """Upsert the follow-ups (a contact's done or dismissed cadence round kept as it is, the
    next one new); the reminders whose time changed."""
    await archive_cadence_rounds(
        conn, user_id, [w.contact_id for w in wanted if w.key == "cadence"]
    )
    params = {
        "user_id": user_id,
        "workspace_id": workspace_id,
        "rows": json.dumps([w.as_row() for w in wanted]),
    }
    return _reminders(await _rows(conn, "followups_upsert", params))


async def archive_cadence_rounds(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> list[int]:
    """Keep those contacts' done or dismissed cadence rounds as they are (out of the way of
    the next round); their ids."""
    if not contact_ids:
        return []
    params = {"user_id": user_id, "contact_ids": sorted(set(contact_ids))}
    return [r["id"] for r in await _rows(conn, "cadence_archive", params)]


async def count_open(conn: Conn, user_id: int) -> int:
    """How many of the user's follow-ups are open or snoozed."""
    return (await _rows(conn, "followups_open", {"user_id": user_id}))[0]["n"]


async def resolve_others(conn: Conn, user_id: int, wanted: Sequence[Wanted]) -> list[int]:
    keep = json.dumps([{"contact_id": w.contact_id, "key": w.key} for w in wanted])
    rows = await _rows(conn, "followups_resolve", {"user_id": user_id, "keep": keep})
    return [r["id"] for r in rows]


async def wake(conn: Conn, user_id: int) -> list[Reminder]:
    return _reminders(await _rows(conn, "followups_wake", {"user_id": user_id}))


async def list_followups(
    conn: Conn,
    user_id: int,
    *,
    until: datetime,
    after: datetime | None = None,
    contact_id: int | None = None,
    limit: int = 200,
) -> list[Followup]:
    """Open and snoozed follow-ups due after `after` (if given) and by `until`, soonest first."""
    params = {
        "user_id": user_id,
        "until": until,
        "after": after or datetime.min.replace(tzinfo=UTC),
        "contact_id": contact_id,
        "limit": limit,
    }
    return [Followup.from_row(r) for r in await _rows(conn, "followups_list", params)]


async def waiting_followups(
    conn: Conn, user_id: int, *, contact_id: int | None = None, limit: int = 200
) -> list[Followup]:
    """Follow-ups snoozed until the contact writes."""
    params = {"user_id": user_id, "contact_id": contact_id, "limit": limit}
    return [Followup.from_row(r) for r in await _rows(conn, "followups_waiting", params)]


async def closed_followups(
    conn: Conn, user_id: int, contact_id: int, *, limit: int = 20
) -> list[Followup]:
    """The contact's follow-ups marked done or dismissed, the latest first."""
    params = {"user_id": user_id, "contact_id": contact_id, "limit": limit}
    return [Followup.from_row(r) for r in await _rows(conn, "followups_closed", params)]


async def count_due(conn: Conn, user_id: int, until: datetime) -> int:
    return (await _rows(conn, "followups_count", {"user_id": user_id, "until": until}))[0]["n"]


async def get_followup(conn: Conn, user_id: int, followup_id: int) -> Followup | None:
    rows = await _rows(conn, "followup_get", {"user_id": user_id, "id": followup_id})
    return Followup.from_row(rows[0]) if rows else None


async def transition(
    conn: Conn,
    user_id: int,
    followup_id: int,
    *,
    state: str,
    remind_on: datetime | None,
    until_reply: bool,
    now: datetime,
) -> bool:
    """Move an open or snoozed follow-up to `state`; False when it is not open or snoozed."""
    params = {
        "user_id": user_id,
        "id": followup_id,
        "state": state,
        "remind_on": remind_on,
        "until_reply": until_reply,
        "now": now,
    }
    return bool(await _rows(conn, "followup_transition", params))


async def lock_followup(conn: Conn, user_id: int, followup_id: int) -> bool:
    """Lock the user's follow-up until the caller's transaction ends; False when not theirs."""
    return bool(await _rows(conn, "followup_lock", {"user_id": user_id, "id": followup_id}))


async def reopen(conn: Conn, user_id: int, followup_id: int, *, now: datetime) -> bool:
    """Open a done, dismissed or snoozed follow-up again, due when it was due; False when it
    was neither. A cadence round takes back the current-round key: `displace_round` first."""
    params = {"user_id": user_id, "id": followup_id, "now": now}
    return bool(await _rows(conn, "followup_reopen", params))


async def displace_round(
    conn: Conn, user_id: int, contact_id: int, followup_id: int, *, now: datetime
) -> list[int]:
    """Make the contact's current cadence round, other than `followup_id`, make way for it
    (kept as history; resolved unless the user closed it); the ids moved."""
    params = {"user_id": user_id, "contact_id": contact_id, "id": followup_id, "now": now}
    return [r["id"] for r in await _rows(conn, "cadence_round_displace", params)]


async def reminder_owner(conn: Conn, followup_id: int) -> int | None:
    """The user whose open or snoozed follow-up it is (None: closed or gone)."""
    rows = await _rows(conn, "reminder_owner", {"id": followup_id})
    return rows[0]["user_id"] if rows else None


async def claim_reminder(conn: Conn, followup_id: int, now: datetime) -> Fired | None:
    rows = await _rows(conn, "reminder_claim", {"id": followup_id, "now": now})
    return Fired.from_row(rows[0]) if rows else None


async def reminder_due(conn: Conn, followup_id: int) -> datetime | None:
    rows = await _rows(conn, "reminder_due", {"id": followup_id})
    return rows[0]["remind_on"] if rows else None


async def record_event(
    conn: Conn,
    *,
    workspace_id: int,
    user_id: int,
    kind: str,
    dedup_key: str,
    payload: dict[str, Any],
) -> int | None:
    """An outgoing event (`followup.due`, `followups.due`); None when already recorded."""
    params = {
        "workspace_id": workspace_id,
        "user_id": user_id,
        "kind": kind,
        "dedup_key": dedup_key,
        "payload": json.dumps(payload),
    }
    rows = await _rows(conn, "event_insert", params)
    return rows[0]["id"] if rows else None


async def digest_enabled(conn: Conn, user_id: int) -> bool:
    rows = await _rows(conn, "settings_get", {"user_id": user_id})
    return bool(rows and rows[0]["digest"])


async def set_digest(conn: Conn, user_id: int, digest: bool) -> None:
    await conn.execute(SQL["settings_set"], {"user_id": user_id, "digest": digest})


async def users_to_recompute(conn: Conn) -> list[int]:
    return [r["id"] for r in await _rows(conn, "users_to_recompute", {})]
