"""The caller's workspace and the activity log as the web app writes and shows it.

Changes log themselves on their own connection, inside their own transaction, so an entry
exists exactly when its change does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.activity import repo as activity_repo
from fluffymail.crm.tags import repo as tags_repo
from fluffymail.web.services.messages import SQL, Conn

Entry = activity_repo.Entry
Subject = tuple[activity_repo.SubjectKind, int]


async def workspace_of(conn: Conn, user_id: int) -> int:
    """The user's workspace (made on first need for a user who has none)."""
    found = await tags_repo.user_workspace(conn, user_id)
    if found is None:
        await conn.execute(
            SQL["ensure_personal_workspace"], {"user_id": user_id, "name": "Personal"}
        )
        found = await tags_repo.user_workspace(conn, user_id)
    assert found is not None
    return found


async def log(conn: Conn, user_id: int, subject: Subject, action: str, **detail: Any) -> None:
    """Record that the user did `action` to `subject`, in the caller's transaction."""
    await activity_repo.record(
        conn,
        workspace_id=await workspace_of(conn, user_id),
        actor_id=user_id,
        subject=subject,
        action=action,
        detail=detail,
    )


async def log_many(
    conn: Conn, user_id: int, subjects: Sequence[Subject], action: str, **detail: Any
) -> None:
    """Record the same change on each of `subjects`, in the caller's transaction."""
    await activity_repo.record_many(
        conn,
        workspace_id=await workspace_of(conn, user_id),
        actor_id=user_id,
        subjects=subjects,
        action=action,
        detail=detail,
    )


async def for_subject(
    pool: AsyncConnectionPool, user_id: int, subject: Subject, *, limit: int = 50
) -> list[Entry]:
    """The newest entries about a contact or company (the caller checked it is the user's),
    from every workspace the user was in: only they change their own contacts and companies."""
    async with pool.connection() as conn:
        return await activity_repo.for_subject(conn, None, subject, limit=limit)
