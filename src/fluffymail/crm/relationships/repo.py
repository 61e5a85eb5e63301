"""The only module that runs `crm/relationships/sql/rel_*.sql`: stored relationships and runs.

Every function takes the caller's connection (and so its transaction). Interactions and stored
states are streamed through server-side cursors; batches are written as one JSON parameter.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.relationships.models import (
    Direction,
    Interaction,
    Kind,
    RelationshipScore,
)
from fluffymail.crm.relationships.state import RelationshipState
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.relationships")
Conn = psycopg.AsyncConnection[Any]
FETCH_SIZE = 5_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Ready:
    """How far a run may fold (`cursor`), messages left for a later run, and stuck ones."""

    cursor: int
    pending: int
    stuck: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """One relationship as a run writes it."""

    contact_id: int
    state: RelationshipState
    score: RelationshipScore


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    contact_id: int
    is_new: bool
    changed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TopRelationship:
    """One line of a user's ranking: the relationship and the contact behind it."""

    contact_id: int
    name: str
    address: str
    score: float
    level: str
    trend: str
    going_cold: bool
    sent: int
    received: int
    two_way_threads: int
    first_at: datetime | None
    last_at: datetime | None
    evidence: tuple[dict[str, Any], ...]
    computed_on: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TopRelationship:
        return cls(
            contact_id=row["contact_id"],
            name=row["name"],
            address=row["primary_address"],
            score=float(row["score"]),
            level=row["level"],
            trend=row["trend"],
            going_cold=row["going_cold"],
            sent=row["sent"],
            received=row["received"],
            two_way_threads=row["two_way_threads"],
            first_at=row["first_at"],
            last_at=row["last_at"],
            evidence=tuple(row["evidence"]),
            computed_on=row["computed_on"],
        )


async def lock_run(conn: Conn, user_id: int) -> int:
    """Lock the user's run row until commit (creating it); returns the cursor."""
    cur = await conn.execute(SQL["rel_lock_run"], {"user_id": user_id})
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def ready_cursor(conn: Conn, user_id: int, cursor: int, stale_before: datetime) -> Ready:
    params = {"user_id": user_id, "cursor": cursor, "stale_before": stale_before}
    row = await (await conn.execute(SQL["rel_ready_cursor"], params)).fetchone()
    assert row is not None
    return Ready(cursor=int(row[0]), pending=int(row[1]), stuck=int(row[2]))


async def extraction_caught_up(conn: Conn, user_id: int, stale_before: datetime) -> bool:
    """True when no message above the user's analysis cursor still waits for extraction (an
    analysis run now would fold all of them)."""
    params = {"user_id": user_id, "stale_before": stale_before}
    row = await (await conn.execute(SQL["rel_extraction_caught_up"], params)).fetchone()
    return bool(row and row[0])


async def found_and_scored(conn: Conn, user_id: int) -> tuple[int, int]:
    """The user's contacts, and their relationships scored above 0 (an import's progress)."""
    row = await (await conn.execute(SQL["rel_found_and_scored"], {"user_id": user_id})).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def unextracted(conn: Conn, user_id: int) -> int:
    """The user's messages that wait for extract-contacts (none of them is scored yet)."""
    row = await (await conn.execute(SQL["rel_unextracted"], {"user_id": user_id})).fetchone()
    return int(row[0]) if row else 0


async def link_counts(conn: Conn, user_id: int, lo: int, hi: int) -> dict[int, int]:
    """Contact links per scoring contact on messages with id in (lo, hi]."""
    if hi <= lo:
        return {}
    params = {"user_id": user_id, "lo": lo, "hi": hi}
    rows = await (await conn.execute(SQL["rel_link_counts"], params)).fetchall()
    return {int(contact_id): int(links) for contact_id, links in rows}


async def folds(conn: Conn, user_id: int) -> dict[int, int]:
    """The links each contact's stored state has folded in."""
    rows = await (await conn.execute(SQL["rel_folds"], {"user_id": user_id})).fetchall()
    return {int(contact_id): int(links) for contact_id, links in rows}


async def save_folds(conn: Conn, user_id: int, links: Mapping[int, int], *, clear: bool) -> None:
    """Record the links now folded per contact (0 forgets it); `clear` starts over first."""
    if clear:
        await conn.execute(SQL["rel_clear_folds"], {"user_id": user_id})
    if not links:
        return
    ids = sorted(links)
    params = {"user_id": user_id, "contact_ids": ids, "links": [links[i] for i in ids]}
    await conn.execute(SQL["rel_save_folds"], params)


async def stream_interactions(
    conn: Conn, user_id: int, *, lo: int, hi: int, fresh: Sequence[int]
) -> AsyncIterator[tuple[int, list[Interaction]]]:
    """(contact id, its interactions to fold, oldest first), one contact at a time.

    Messages with id in (lo, hi] for every contact; all messages up to hi for `fresh` ones.
    Must run inside a transaction (server-side cursor).
    """
    params = {"user_id": user_id, "lo": lo, "hi": hi, "fresh": list(fresh)}
    current: int | None = None
    batch: list[Interaction] = []
    await conn.execute(SQL["rel_full_plans"])
    async with conn.cursor(name="rel_interactions") as cur:
        cur.itersize = FETCH_SIZE
        await cur.execute(SQL["rel_interactions"], params)
        async for row in cur:
            contact_id = int(row[0])
            if contact_id != current:
                if current is not None:
                    yield current, batch
                current, batch = contact_id, []
            batch.append(_interaction(row))
    if current is not None:
        yield current, batch


def _interaction(row: Sequence[Any]) -> Interaction:
    _, message_id, at, outgoing, direct, thread_id, is_reply, latency = row
    return Interaction(
        at=at,
        direction=Direction.SENT if outgoing else Direction.RECEIVED,
        kind=Kind.DIRECT if direct else Kind.CC,
        thread_id=str(thread_id),
        message_id=str(message_id),
        is_reply=bool(is_reply),
        reply_latency=timedelta(seconds=latency) if latency is not None else None,
    )


async def load_states(
    conn: Conn, user_id: int, contact_ids: Sequence[int]
) -> dict[int, RelationshipState]:
    """Stored states of the given contacts that have one."""
    params = {"user_id": user_id, "contact_ids": list(contact_ids)}
    rows = await (await conn.execute(SQL["rel_load_states"], params)).fetchall()
    return {int(c): _state(raw) for c, raw in rows}


async def stream_states(conn: Conn, user_id: int) -> AsyncIterator[tuple[int, RelationshipState]]:
    """Every stored (contact id, state) of the user (inside a transaction)."""
    await conn.execute(SQL["rel_full_plans"])
    async with conn.cursor(name="rel_stored_states") as cur:
        cur.itersize = FETCH_SIZE
        await cur.execute(SQL["rel_stored_states"], {"user_id": user_id})
        async for contact_id, raw in cur:
            yield int(contact_id), _state(raw)


def _state(raw: Mapping[str, Any]) -> RelationshipState:
    return RelationshipState.from_json(raw) if raw else RelationshipState()


async def upsert(
    conn: Conn, user_id: int, stored: Sequence[Stored], now: datetime
) -> list[Written]:
    """Write analysed relationships; says which are new and which had new mail."""
    if not stored:
        return []
    rows = [
        {
            **score_columns(s.score),
            "contact_id": s.contact_id,
            "sent": s.score.stats.sent,
            "received": s.score.stats.received,
            "two_way_threads": s.score.stats.two_way_threads,
            "threads": s.score.stats.threads,
            "first_at": _iso(s.score.stats.first_at),
            "last_at": _iso(s.score.stats.last_at),
            "state": s.state.to_json(),
        }
        for s in stored
    ]
    params = {"user_id": user_id, "rows": _dumps(rows), "now": now}
    result = await (await conn.execute(SQL["rel_upsert"], params)).fetchall()
    return [Written(contact_id=int(c), is_new=new, changed=changed) for c, new, changed in result]


async def update_scores(
    conn: Conn, user_id: int, scores: Sequence[tuple[int, RelationshipScore]], now: datetime
) -> int:
    """Store recomposed scores (rescore); returns the rows updated."""
    if not scores:
        return 0
    rows = [{**score_columns(score), "contact_id": c} for c, score in scores]
    params = {"user_id": user_id, "rows": _dumps(rows), "now": now}
    return (await conn.execute(SQL["rel_update_scores"], params)).rowcount


def score_columns(score: RelationshipScore) -> dict[str, Any]:
    """The columns derived from a score at `now` (what a rescore rewrites)."""
    return {
        "score": score.score,
        "level": str(score.level),
        "trend": str(score.trend),
        "going_cold": score.going_cold,
        "evidence": [{"text": e.text, "message_ids": list(e.message_ids)} for e in score.evidence],
        "stats": stats_json(score),
    }


def stats_json(score: RelationshipScore) -> dict[str, Any]:
    """RelationshipStats + ScoreParts + the usual gap, for display."""
    s, p = score.stats, score.parts
    return {
        "sent": s.sent,
        "received": s.received,
        "direct": s.direct,
        "cc": s.cc,
        "two_way_threads": s.two_way_threads,
        "threads": s.threads,
        "replies_sent": s.replies_sent,
        "replies_received": s.replies_received,
        "median_reply_sent_seconds": _seconds(s.median_reply_sent),
        "median_reply_received_seconds": _seconds(s.median_reply_received),
        "first_at": _iso(s.first_at),
        "last_at": _iso(s.last_at),
        "monthly": [[m.month, m.sent, m.received] for m in s.monthly],
        "usual_gap_days": score.usual_gap_days,
        "parts": {
            "activity": p.activity,
            "half_life_days": p.half_life_days,
            "frequency": p.frequency,
            "balance": p.balance,
            "reciprocity": p.reciprocity,
            "directness": p.directness,
        },
        "as_of": score.now.isoformat(),
    }


async def delete_dropped(
    conn: Conn,
    user_id: int,
    *,
    full: bool,
    fresh: Sequence[int],
    produced: Sequence[int],
) -> list[int]:
    params = {
        "user_id": user_id,
        "full": full,
        "fresh": list(fresh),
        "produced": list(produced),
    }
    rows = await (await conn.execute(SQL["rel_delete_dropped"], params)).fetchall()
    return [int(r[0]) for r in rows]


async def meeting_times(conn: Conn, user_id: int) -> dict[int, list[datetime]]:
    """The starts of the meetings that count, per scoring contact (rel_meetings.sql)."""
    rows = await (await conn.execute(SQL["rel_meetings"], {"user_id": user_id})).fetchall()
    return {int(contact_id): list(starts) for contact_id, starts in rows}


async def take_meeting_rescore(conn: Conn, user_id: int) -> set[int]:
    """The contacts whose meetings changed since the last run (forgotten as taken)."""
    cur = await conn.execute(SQL["rel_take_meeting_rescore"], {"user_id": user_id})
    return {int(r[0]) for r in await cur.fetchall()}


async def save_run(conn: Conn, user_id: int, *, cursor: int, now: datetime, full: bool) -> None:
    params = {"user_id": user_id, "cursor": cursor, "now": now, "full": full}
    await conn.execute(SQL["rel_save_run"], params)


async def top(
    conn: Conn, user_id: int, *, limit: int, everyone: bool = False
) -> list[TopRelationship]:
    """The user's strongest relationships, best first."""
    params = {"user_id": user_id, "limit": limit, "everyone": everyone}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["rel_top"], params)
        return [TopRelationship.from_row(r) for r in await cur.fetchall()]


async def analyzed_users(conn: Conn) -> list[int]:
    rows = await (await conn.execute(SQL["rel_analyzed_users"])).fetchall()
    return [int(r[0]) for r in rows]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _seconds(delta: timedelta | None) -> float | None:
    return delta.total_seconds() if delta is not None else None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
