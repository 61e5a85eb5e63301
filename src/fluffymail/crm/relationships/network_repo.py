"""The only module that runs `crm/relationships/sql/network_*.sql` (who knows whom).

Thin: one statement per function, rows out as mappings; `network` turns them into records.
Every function takes the caller's connection (and so its transaction).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.relationships")
Conn = psycopg.AsyncConnection[Any]
Row = Mapping[str, Any]


async def _rows(conn: Conn, name: str, params: Mapping[str, Any]) -> list[Row]:
    # Never prepared: a generic plan made for a busy target or a big company (psycopg prepares
    # a statement on its 5th run) is the wrong plan for the next, small one.
    async with conn.cursor(row_factory=dict_row) as cur:
        return await (await cur.execute(SQL[name], params, prepare=False)).fetchall()


async def first_messages(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> list[Row]:
    """Per canonical contact: its addresses, its first message and that message's From/To/Cc."""
    params = {"user_id": user_id, "contact_ids": sorted(set(contact_ids))}
    return await _rows(conn, "network_first_messages", params)


async def upsert_introductions(
    conn: Conn,
    user_id: int,
    rows: Sequence[Mapping[str, Any]],
    *,
    no_mail: Sequence[int],
    contact_ids: Sequence[int],
) -> int:
    """Store `rows`; delete the introductions of `no_mail` and of merged `contact_ids`."""
    params = {
        "user_id": user_id,
        "rows": json.dumps(list(rows), default=_json_default),
        "no_mail": sorted(set(no_mail)),
        "contact_ids": sorted(set(contact_ids)),
    }
    cur = await conn.execute(SQL["network_upsert_introductions"], params, prepare=False)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def get_introduction(conn: Conn, user_id: int, contact_id: int) -> Row | None:
    rows = await _rows(
        conn, "network_get_introduction", {"user_id": user_id, "contact_id": contact_id}
    )
    return rows[0] if rows else None


async def paths_in_contact(conn: Conn, user_id: int, contact_id: int) -> list[Row]:
    params = {"user_id": user_id, "contact_id": contact_id}
    return await _rows(conn, "network_paths_in_contact", params)


async def paths_in_company(conn: Conn, user_id: int, company_id: int) -> list[Row]:
    params = {"user_id": user_id, "company_id": company_id}
    return await _rows(conn, "network_paths_in_company", params)


async def company_rollup(conn: Conn, user_id: int, company_id: int, limit: int) -> list[Row]:
    """The company and its totals on every row, with its top people's holders ([]: not the user's)."""
    params = {"user_id": user_id, "company_id": company_id, "limit": limit}
    return await _rows(conn, "network_company_rollup", params)


async def intro_teammates(conn: Conn, user_id: int, target: str) -> list[Row]:
    return await _rows(conn, "network_intro_teammates", {"user_id": user_id, "target": target})


async def intro_cooccurrence(
    conn: Conn,
    user_id: int,
    target: str,
    *,
    now: datetime | None,
    max_messages: int,
    scan_links: int,
    co_weight: float,
    half_life: float,
    scale: float,
    candidates: int,
) -> list[Row]:
    params = {
        "user_id": user_id,
        "target": target,
        "now": now,
        "max_messages": max_messages,
        "scan_links": scan_links,
        "co_weight": co_weight,
        "half_life": half_life,
        "scale": scale,
        "candidates": candidates,
    }
    return await _rows(conn, "network_intro_cooccurrence", params)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
