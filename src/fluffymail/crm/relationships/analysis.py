"""One user's relationship analysis: fold new mail into the stored states, or rescore for decay.

Each call is one transaction on the caller's connection: the relationships written and the
cursor advanced commit together. Reads and writes only through `repo`; imports crm only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fluffymail.crm.relationships import archive, repo
from fluffymail.crm.relationships.models import Interaction
from fluffymail.crm.relationships.state import RelationshipState

__all__ = ["STALE_AFTER", "AnalysisResult", "RescoreResult", "analyze_user", "rescore_user"]

STALE_AFTER = timedelta(hours=1)
"""An unextracted message older than this stops holding the cursor back (counted as stuck)."""
WRITE_BATCH = 1_000  # contacts per upsert


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What one run folds: messages with id in (lo, hi], all mail of `fresh` contacts."""

    lo: int
    hi: int
    rebuild_all: bool
    fresh: frozenset[int]
    links: dict[int, int]  # contact -> links folded after this run, for contacts that change


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisResult:
    """What a run did; `pending` messages await extraction, `stuck` ones were passed over."""

    user_id: int
    full: bool
    cursor_from: int
    cursor_to: int
    interactions: int
    contacts: int
    rebuilt: int
    dropped: int
    pending: int
    stuck: int
    new_contact_ids: tuple[int, ...] = ()
    changed_contact_ids: tuple[int, ...] = ()

    def as_output(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "full": self.full,
            "cursor": [self.cursor_from, self.cursor_to],
            "interactions": self.interactions,
            "contacts": self.contacts,
            "new": len(self.new_contact_ids),
            "changed": len(self.changed_contact_ids),
            "rebuilt": self.rebuilt,
            "dropped": self.dropped,
            "pending": self.pending,
            "stuck": self.stuck,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RescoreResult:
    user_id: int
    contacts: int

    def as_output(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "rescored": self.contacts}


@dataclass(slots=True)
class _Folded:
    interactions: int = 0
    written: list[repo.Written] = field(default_factory=list)


async def analyze_user(
    conn: repo.Conn,
    user_id: int,
    *,
    now: datetime,
    full: bool = False,
    stale_after: timedelta = STALE_AFTER,
) -> AnalysisResult:
    """Fold the user's mail above the cursor into each contact's state and store the scores.

    Args:
        conn: a connection not inside a transaction block of its own making.
        now: the time the scores are computed as of (for an archive, the day after its last
            mail: see `archive.scoring_time`).
        full: forget every stored state and rebuild from all the user's mail.
        stale_after: how long an unextracted message may hold the cursor back.
    """
    async with conn.transaction():
        start = await repo.lock_run(conn, user_id)
        lo = 0 if full else start
        ready = await repo.ready_cursor(conn, user_id, lo, now - stale_after)
        plan = await _plan(conn, user_id, lo, ready.cursor)
        as_of = await archive.scoring_time(conn, user_id, now)
        folded = await _fold(conn, user_id, plan, as_of.at)
        produced = [w.contact_id for w in folded.written]
        dropped = await repo.delete_dropped(
            conn, user_id, full=plan.rebuild_all, fresh=sorted(plan.fresh), produced=produced
        )
        await repo.save_folds(conn, user_id, plan.links, clear=plan.rebuild_all)
        await repo.save_run(conn, user_id, cursor=plan.hi, now=now, full=plan.rebuild_all)
    return AnalysisResult(
        user_id=user_id,
        full=plan.rebuild_all,
        cursor_from=lo,
        cursor_to=plan.hi,
        interactions=folded.interactions,
        contacts=len(produced),
        rebuilt=len(plan.fresh),
        dropped=len(dropped),
        pending=ready.pending,
        stuck=ready.stuck,
        new_contact_ids=tuple(w.contact_id for w in folded.written if w.is_new),
        changed_contact_ids=tuple(w.contact_id for w in folded.written if w.changed),
    )


async def _plan(conn: repo.Conn, user_id: int, lo: int, hi: int) -> Plan:
    """New links per contact, and the contacts whose links below the cursor changed."""
    new = await repo.link_counts(conn, user_id, lo, hi)
    if lo == 0:
        return Plan(lo=0, hi=hi, rebuild_all=True, fresh=frozenset(), links=new)
    old = await repo.link_counts(conn, user_id, 0, lo)
    folded = await repo.folds(conn, user_id)
    fresh = frozenset(c for c in old.keys() | folded.keys() if old.get(c, 0) != folded.get(c, 0))
    links = {c: folded.get(c, 0) + n for c, n in new.items()}
    links.update({c: old.get(c, 0) + new.get(c, 0) for c in fresh})
    return Plan(lo=lo, hi=hi, rebuild_all=False, fresh=fresh, links=links)


async def _fold(conn: repo.Conn, user_id: int, plan: Plan, now: datetime) -> _Folded:
    """Stream the interactions contact by contact; write them a batch of contacts at a time."""
    folded = _Folded()
    if plan.hi <= plan.lo and not plan.fresh:
        return folded
    chunk: list[tuple[int, list[Interaction]]] = []
    stream = repo.stream_interactions(
        conn, user_id, lo=plan.lo, hi=plan.hi, fresh=sorted(plan.fresh)
    )
    async for contact_id, interactions in stream:
        folded.interactions += len(interactions)
        chunk.append((contact_id, interactions))
        if len(chunk) >= WRITE_BATCH:
            folded.written += await _write(conn, user_id, chunk, plan, now)
            chunk = []
    folded.written += await _write(conn, user_id, chunk, plan, now)
    return folded


async def _write(
    conn: repo.Conn,
    user_id: int,
    chunk: Sequence[tuple[int, list[Interaction]]],
    plan: Plan,
    now: datetime,
) -> list[repo.Written]:
    if not chunk:
        return []
    states: dict[int, RelationshipState] = {}
    if not plan.rebuild_all:
        carried = [c for c, _ in chunk if c not in plan.fresh]
        states = await repo.load_states(conn, user_id, carried) if carried else {}
    stored = []
    for contact_id, interactions in chunk:
        state = states.get(contact_id, RelationshipState()).update(interactions)
        stored.append(repo.Stored(contact_id=contact_id, state=state, score=state.score(now)))
    return await repo.upsert(conn, user_id, stored, now)


async def rescore_user(conn: repo.Conn, user_id: int, *, now: datetime) -> RescoreResult:
    """Recompose every stored relationship of the user as of `now` (decay), or as of its last
    mail for an archive (see `archive`); reads no mail."""
    count = 0
    async with conn.transaction():
        await repo.lock_run(conn, user_id)
        as_of = await archive.scoring_time(conn, user_id, now)
        batch: list[tuple[int, Any]] = []
        async for contact_id, state in repo.stream_states(conn, user_id):
            batch.append((contact_id, state.score(as_of.at)))
            if len(batch) >= WRITE_BATCH:
                count += await repo.update_scores(conn, user_id, batch, now)
                batch = []
        count += await repo.update_scores(conn, user_id, batch, now)
    return RescoreResult(user_id=user_id, contacts=count)
