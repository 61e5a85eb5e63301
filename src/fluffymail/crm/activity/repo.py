"""The only module that runs `crm/activity/sql/*.sql`: writes and reads the activity log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.activity")
Conn = psycopg.AsyncConnection[Any]
SubjectKind = Literal["contact", "company", "tag", "list"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    id: int
    action: str  # e.g. "note.added", "tag.added", "contact.merged"
    detail: dict[str, Any]
    at: datetime
    actor_id: int | None
    actor: str  # the actor's name or email

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Entry:
        return cls(
            id=row["id"],
            action=row["action"],
            detail=row["detail"],
            at=row["at"],
            actor_id=row["actor_id"],
            actor=row["actor"],
        )


async def record(
    conn: Conn,
    *,
    workspace_id: int,
    actor_id: int | None,
    subject: tuple[SubjectKind, int],
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log one change on the caller's connection (so in the change's own transaction)."""
    kind, subject_id = subject
    params = {
        "workspace_id": workspace_id,
        "actor_id": actor_id,
        "subject_kind": kind,
        "subject_id": subject_id,
        "action": action,
        "detail": json.dumps(detail or {}),
    }
    await conn.execute(SQL["activity_insert"], params)


async def record_many(
    conn: Conn,
    *,
    workspace_id: int,
    actor_id: int | None,
    subjects: Sequence[tuple[SubjectKind, int]],
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log one change on each of `subjects` in one statement (in the caller's transaction)."""
    if not subjects:
        return
    params = {
        "workspace_id": workspace_id,
        "actor_id": actor_id,
        "kinds": [kind for kind, _ in subjects],
        "ids": [subject_id for _, subject_id in subjects],
        "action": action,
        "detail": json.dumps(detail or {}),
    }
    await conn.execute(SQL["activity_insert_many"], params)


async def for_subject(
    conn: Conn, workspace_id: int | None, subject: tuple[SubjectKind, int], *, limit: int = 50
) -> list[Entry]:
    kind, subject_id = subject
    params = {
        "workspace_id": workspace_id,
        "subject_kind": kind,
        "subject_id": subject_id,
        "limit": limit,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["activity_for_subject"], params)
        return [Entry.from_row(r) for r in await cur.fetchall()]
