"""The only module that runs `crm/relationships/sql/summary_*.sql`: the mail a relationship
summary reads, stored summaries, and the per-user daily AI token budget (crm.ai_usage).

Every function takes the caller's connection (and so its transaction). Imports the leaves only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from fluffymail.db.sql import load_sql

SQL = {
    name: query
    for name, query in load_sql("fluffymail.crm.relationships").items()
    if name.startswith("summary_")
}
Conn = psycopg.AsyncConnection[Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactRow:
    id: int
    user_id: int
    primary_address: str
    name: str
    merged_into_id: int | None
    user_email: str
    user_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSummary:
    status: str
    generated_by: str
    prompt_version: str
    last_message_at: datetime | None
    created_on: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRow:
    """One message between the user and the contact; `private`: its body may not leave."""

    id: int
    thread_id: int | None
    sent_on: datetime
    subject: str
    thread_subject: str
    body: str
    from_contact: bool
    private: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRecord:
    """A row of crm.relationship_summaries as written."""

    user_id: int
    contact_id: int
    status: str
    generated_by: str
    prompt_version: str
    summary: Mapping[str, Any] | None
    error: str | None
    input_tokens: int
    output_tokens: int
    last_message_at: datetime | None
    created_on: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """Tokens held from a user's daily budget until the call's real usage is known."""

    user_id: int
    day: date
    tokens: int


async def _one(conn: Conn, name: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        return await (await cur.execute(SQL[name], params)).fetchone()


async def get_contact(conn: Conn, user_id: int, contact_id: int) -> ContactRow | None:
    row = await _one(conn, "summary_get_contact", {"user_id": user_id, "contact_id": contact_id})
    return ContactRow(**row) if row else None


async def get_summary(conn: Conn, user_id: int, contact_id: int) -> StoredSummary | None:
    row = await _one(conn, "summary_get", {"user_id": user_id, "contact_id": contact_id})
    return StoredSummary(**row) if row else None


async def newest_message(conn: Conn, user_id: int, contact_id: int) -> datetime | None:
    """When the newest message between the user and the contact was sent; None: no mail."""
    params = {"user_id": user_id, "contact_id": contact_id}
    row = await _one(conn, "summary_newest_message", params)
    return row["newest"] if row else None


async def load_messages(
    conn: Conn,
    user_id: int,
    contact_id: int,
    *,
    max_chars: int,
    max_messages: int,
    max_body_chars: int,
) -> list[MessageRow]:
    """The contact's messages with the user, newest first, while they fit `max_chars`."""
    params = {
        "user_id": user_id,
        "contact_id": contact_id,
        "max_chars": max_chars,
        "max_messages": max_messages,
        "max_body_chars": max_body_chars,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(SQL["summary_load_messages"], params)).fetchall()
    return [MessageRow(**row) for row in rows]


async def upsert_summary(conn: Conn, record: SummaryRecord) -> None:
    params = {
        "user_id": record.user_id,
        "contact_id": record.contact_id,
        "status": record.status,
        "generated_by": record.generated_by,
        "prompt_version": record.prompt_version,
        "summary": Jsonb(dict(record.summary)) if record.summary is not None else None,
        "error": record.error,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "last_message_at": record.last_message_at,
        "created_on": record.created_on,
    }
    await conn.execute(SQL["summary_upsert"], params)


async def reserve_tokens(
    conn: Conn, user_id: int, day: date, tokens: int, budget: int
) -> Reservation | None:
    """Hold `tokens` of the user's budget for `day`; None when that would pass `budget`."""
    params = {"user_id": user_id, "day": day, "tokens": tokens, "budget": budget}
    row = await _one(conn, "summary_reserve_tokens", params)
    return Reservation(user_id=user_id, day=day, tokens=tokens) if row else None


async def settle_tokens(conn: Conn, reservation: Reservation, *, spent: int, calls: int) -> None:
    """Replace the reservation by the tokens really spent (0 and 0: release it)."""
    params = {
        "user_id": reservation.user_id,
        "day": reservation.day,
        "reserved": reservation.tokens,
        "spent": spent,
        "calls": calls,
    }
    await conn.execute(SQL["summary_settle_tokens"], params)


async def get_usage(conn: Conn, user_id: int, day: date) -> tuple[int, int]:
    """(tokens, calls) the user spent on AI on `day`."""
    row = await _one(conn, "summary_get_usage", {"user_id": user_id, "day": day})
    return (int(row["tokens"]), int(row["calls"])) if row else (0, 0)
