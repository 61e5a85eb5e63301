"""The only module that runs `crm/team/sql/*.sql`: members, roles and invites of a workspace.

Every function takes the caller's connection (and so its transaction); rules (who may do what,
the last owner) are the web service's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.team.models import Invite, LinkedInvite, Member, Role, Workspace
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.team")
Conn = psycopg.AsyncConnection[Any]


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall() if cur.description else []


async def workspace(conn: Conn, workspace_id: int, user_id: int) -> Workspace | None:
    rows = await _rows(conn, "team_workspace", {"workspace_id": workspace_id, "user_id": user_id})
    return Workspace.from_row(rows[0]) if rows else None


async def rename(conn: Conn, workspace_id: int, name: str) -> None:
    await conn.execute(SQL["team_rename"], {"workspace_id": workspace_id, "name": name})


async def members(conn: Conn, workspace_id: int) -> list[Member]:
    rows = await _rows(conn, "team_members", {"workspace_id": workspace_id})
    return [Member.from_row(r) for r in rows]


async def lock_roles(conn: Conn, workspace_id: int) -> dict[int, Role]:
    """Every member's role, the rows locked until the transaction ends."""
    rows = await _rows(conn, "members_lock", {"workspace_id": workspace_id})
    return {r["user_id"]: r["role"] for r in rows}


async def add_member(
    conn: Conn, workspace_id: int, user_id: int, role: Role, *, now: datetime
) -> bool:
    """Join the user to the workspace; False when they already were a member."""
    params = {"workspace_id": workspace_id, "user_id": user_id, "role": role, "now": now}
    return bool(await _rows(conn, "member_add", params))


async def remove_member(conn: Conn, workspace_id: int, user_id: int) -> bool:
    params = {"workspace_id": workspace_id, "user_id": user_id}
    return bool(await _rows(conn, "member_remove", params))


async def set_role(conn: Conn, workspace_id: int, user_id: int, role: Role) -> bool:
    params = {"workspace_id": workspace_id, "user_id": user_id, "role": role}
    return bool(await _rows(conn, "member_set_role", params))


async def insert_invite(
    conn: Conn,
    *,
    workspace_id: int,
    user_id: int,
    token_hash: bytes,
    role: Role,
    note: str,
    now: datetime,
    ttl: timedelta,
) -> Invite:
    params = {
        "workspace_id": workspace_id,
        "user_id": user_id,
        "token_hash": token_hash,
        "role": role,
        "note": note,
        "now": now,
        "ttl": ttl,
    }
    return Invite.from_row((await _rows(conn, "invite_insert", params))[0])


async def invites(conn: Conn, workspace_id: int) -> list[Invite]:
    rows = await _rows(conn, "invite_list", {"workspace_id": workspace_id})
    return [Invite.from_row(r) for r in rows]


async def delete_invite(conn: Conn, workspace_id: int, invite_id: int) -> bool:
    params = {"workspace_id": workspace_id, "invite_id": invite_id}
    return bool(await _rows(conn, "invite_delete", params))


async def invite_by_token(conn: Conn, token_hash: bytes) -> LinkedInvite | None:
    """The invite the token names, row-locked until the transaction ends."""
    rows = await _rows(conn, "invite_by_token", {"token_hash": token_hash})
    return LinkedInvite.from_row(rows[0]) if rows else None


async def spend_invite(conn: Conn, invite_id: int, user_id: int, *, now: datetime) -> None:
    params = {"invite_id": invite_id, "user_id": user_id, "now": now}
    await conn.execute(SQL["invite_spend"], params)
