"""The only module that runs `crm/webhooks/sql/*.sql`: subscriptions, the outbox hand-over,
deliveries and their attempts. Every function takes the caller's connection (and so its
transaction); reads and changes a person asks for carry their workspace id."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm import secrets
from fluffymail.crm.webhooks.models import Attempt, Delivery, Dispatched, Outgoing, Webhook
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.webhooks")
Conn = psycopg.AsyncConnection[Any]


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall() if cur.description else []


# -- subscriptions -------------------------------------------------------------------------


async def insert_webhook(
    conn: Conn,
    *,
    workspace_id: int,
    user_id: int,
    url: str,
    description: str,
    events: Sequence[str],
    secret: bytes,
    enabled: bool,
) -> Webhook:
    params = {
        "workspace_id": workspace_id,
        "user_id": user_id,
        "url": url,
        "description": description,
        "events": list(events),
        "secret": secret,
        "enabled": enabled,
    }
    return Webhook.from_row((await _rows(conn, "webhook_insert", params))[0])


async def list_webhooks(
    conn: Conn, workspace_id: int, webhook_id: int | None = None
) -> list[Webhook]:
    params = {"workspace_id": workspace_id, "id": webhook_id}
    return [Webhook.from_row(r) for r in await _rows(conn, "webhook_list", params)]


async def update_webhook(
    conn: Conn,
    workspace_id: int,
    webhook_id: int,
    *,
    url: str | None = None,
    description: str | None = None,
    events: Sequence[str] | None = None,
    enabled: bool | None = None,
    secret: bytes | None = None,
) -> bool:
    """Change the fields given (None leaves one); False when not the workspace's."""
    params = {
        "workspace_id": workspace_id,
        "id": webhook_id,
        "url": url,
        "description": description,
        "events": list(events) if events is not None else None,
        "enabled": enabled,
        "secret": secret,
    }
    return bool(await _rows(conn, "webhook_update", params))


async def delete_webhook(conn: Conn, workspace_id: int, webhook_id: int) -> bool:
    params = {"workspace_id": workspace_id, "id": webhook_id}
    return bool(await _rows(conn, "webhook_delete", params))


# -- the outbox ----------------------------------------------------------------------------


async def record_event(conn: Conn, user_id: int, kind: str, payload: dict[str, Any]) -> int | None:
    """An outgoing event of the user's workspace when a webhook there subscribes to `kind`
    (None otherwise): for events recorded by code rather than by a trigger (`sync.failed`)."""
    params = {"user_id": user_id, "kind": kind, "payload": json.dumps(payload, default=str)}
    return (await _rows(conn, "event_record", params))[0]["id"]


async def dispatch_events(conn: Conn, limit: int) -> tuple[int, list[Dispatched]]:
    """Hand up to `limit` pending events to the webhooks (run inside a transaction, under
    `lock_dispatch`): how many were taken, and the deliveries made, in order."""
    rows = await _rows(conn, "events_dispatch", {"limit": limit})
    made = [
        Dispatched(delivery_id=r["delivery_id"], webhook_id=r["webhook_id"], subject=r["subject"])
        for r in rows
        if r["delivery_id"] is not None
    ]
    return (rows[0]["taken"] if rows else 0), made


async def lock_dispatch(conn: Conn) -> None:
    await conn.execute(SQL["dispatch_lock"])


async def pending_events(conn: Conn) -> int:
    return (await _rows(conn, "events_pending", {}))[0]["pending"]


async def test_event(
    conn: Conn, workspace_id: int, user_id: int, webhook_id: int
) -> Dispatched | None:
    """A `webhook.test` event and its delivery to that webhook; None when not the workspace's."""
    params = {"workspace_id": workspace_id, "user_id": user_id, "id": webhook_id}
    rows = await _rows(conn, "webhook_test_event", params)
    return Dispatched(**rows[0]) if rows else None


# -- deliveries ----------------------------------------------------------------------------


async def outgoing(conn: Conn, delivery_id: int) -> Outgoing | None:
    rows = await _rows(conn, "delivery_outgoing", {"id": delivery_id})
    return Outgoing.from_row(rows[0]) if rows else None


async def earlier_pending(conn: Conn, delivery: Outgoing) -> list[tuple[int, int | None]]:
    """Deliveries of the same webhook and subject, older and still pending, oldest first,
    each with its queue job's id."""
    params = {
        "webhook_id": delivery.webhook_id,
        "subject": delivery.subject,
        "id": delivery.delivery_id,
    }
    return [(r["id"], r["job_id"]) for r in await _rows(conn, "delivery_earlier", params)]


async def set_jobs(conn: Conn, jobs: Sequence[tuple[int, int]]) -> None:
    """Record the queue job of each delivery: (delivery id, job id) pairs."""
    params = {"ids": [d for d, _ in jobs], "job_ids": [j for _, j in jobs]}
    await conn.execute(SQL["delivery_set_jobs"], params)


async def record_attempt(
    conn: Conn,
    delivery_id: int,
    *,
    now: datetime,
    status: int | None,
    duration_ms: int,
    error: str | None,
    ok: bool,
    final: bool,
) -> str | None:
    """Log an attempt; the delivery's state after it (None: the delivery is gone)."""
    params = {
        "id": delivery_id,
        "now": now,
        "status": status,
        "duration_ms": duration_ms,
        "error": error,
        "ok": ok,
        "final": final,
    }
    rows = await _rows(conn, "delivery_attempted", params)
    return rows[0]["state"] if rows else None


async def give_up(
    conn: Conn, delivery_ids: Sequence[int], now: datetime, error: str | None = None
) -> list[int]:
    params = {"ids": list(delivery_ids), "now": now, "error": error}
    return [r["id"] for r in await _rows(conn, "delivery_give_up", params)]


async def list_deliveries(
    conn: Conn,
    webhook_id: int,
    *,
    limit: int = 50,
    before: int | None = None,
    delivery_id: int | None = None,
    state: str | None = None,
    with_attempts: bool = True,
) -> list[Delivery]:
    """A webhook's log, newest first (the caller checked the webhook is the workspace's)."""
    params = {
        "webhook_id": webhook_id,
        "limit": limit,
        "before": before,
        "id": delivery_id,
        "state": state,
    }
    rows = await _rows(conn, "deliveries_list", params)
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    if with_attempts and rows:
        ids = [r["id"] for r in rows]
        for a in await _rows(conn, "delivery_attempts", {"ids": ids}):
            attempts[a.pop("delivery_id")].append(Attempt(**a))
    return [Delivery.from_row(r, tuple(attempts.get(r["id"], ()))) for r in rows]


async def resend(conn: Conn, webhook_id: int, delivery_id: int) -> Dispatched | None:
    """A new delivery of that delivery's event (None: no such delivery of that webhook)."""
    rows = await _rows(conn, "delivery_resend", {"id": delivery_id, "webhook_id": webhook_id})
    return Dispatched(**rows[0]) if rows else None


async def rotate_secrets(
    conn: Conn, box: secrets.SecretBox, *, batch_size: int = 500
) -> tuple[int, list[int]]:
    """Re-encrypt every webhook secret the current key does not hold (`fluffymail secrets
    rotate`): how many were, and the ids no configured key reads."""
    rotated, after = 0, 0
    unreadable: list[int] = []
    while batch := await _rows(conn, "secrets_batch", {"after": after, "limit": batch_size}):
        after = batch[-1]["id"]
        for row in batch:
            token = bytes(row["secret"])
            if box.is_current(token):
                continue
            try:
                new = box.rotate(token)
            except secrets.SecretError:  # no configured key reads it
                unreadable.append(row["id"])
                continue
            params = {"id": row["id"], "old": token, "new": new}
            rotated += len(await _rows(conn, "secret_replace", params))
    return rotated, unreadable
