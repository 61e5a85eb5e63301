"""Teammates as the web app runs them: the caller's workspace, its members and invites, and the
rules (only owners invite, revoke, remove others and change roles; the last owner stays).

An invite link carries a random token; only its hash is stored, so the link is shown once. A
link is spent by the first user who joins with it, and stops working when it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.team import repo
from fluffymail.crm.team.models import Invite, LinkedInvite, Member, Role, Workspace
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import accounts, activity
from fluffymail.web.services.contacts import db_now
from fluffymail.web.services.messages import Conn

INVITE_TTL = timedelta(days=7)


class TeamError(FluffyMailError):
    """The team change cannot be made."""


class TeamForbidden(TeamError):
    """Only an owner of the workspace can do this."""


class TeamNotFound(TeamError):
    """No such member or invite in your workspace."""


class TeamRefused(TeamError):
    """The team change would leave the workspace without an owner."""


class InviteNotFound(TeamError):
    """This invite link is not valid: check that it was copied whole."""


class InviteGone(TeamError):
    """This invite link no longer works."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Team:
    workspace: Workspace
    members: list[Member]
    invites: list[Invite]  # pending ones; owners only (empty for members)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewInvite:
    invite: Invite
    token: str  # shown once: only its hash is kept


async def current(conn: Conn, user_id: int) -> Workspace:
    """The caller's workspace with their role in it, in the caller's transaction."""
    found = await repo.workspace(conn, await activity.workspace_of(conn, user_id), user_id)
    assert found is not None  # workspace_of is one of the user's memberships
    return found


async def require_owner(conn: Conn, user_id: int, action: str) -> Workspace:
    """The caller's workspace if they own it, else `TeamForbidden` (403) saying who may
    `action` ("rename its tags"): the one check for every workspace-wide setting."""
    workspace = await current(conn, user_id)
    if workspace.role != "owner":
        raise TeamForbidden(f"Only an owner of {workspace.name} can {action}.")
    return workspace


async def my_workspace(pool: AsyncConnectionPool, user_id: int) -> Workspace:
    """The caller's workspace and role: pages offer owner-only forms to owners alone."""
    async with pool.connection() as conn:
        return await current(conn, user_id)


async def team(pool: AsyncConnectionPool, user_id: int) -> Team:
    """The caller's workspace, its members and (for owners) its pending invites."""
    async with pool.connection() as conn:
        workspace = await current(conn, user_id)
        members = await repo.members(conn, workspace.id)
        pending = await repo.invites(conn, workspace.id) if workspace.role == "owner" else []
    return Team(workspace=workspace, members=members, invites=pending)


async def rename(pool: AsyncConnectionPool, user_id: int, name: str) -> Workspace:
    async with pool.connection() as conn, conn.transaction():
        workspace = await require_owner(conn, user_id, "rename it")
        await repo.rename(conn, workspace.id, name)
    return Workspace(id=workspace.id, name=name, role=workspace.role)


async def create_invite(
    pool: AsyncConnectionPool, user_id: int, *, role: Role, note: str = ""
) -> NewInvite:
    """A new invite link into the caller's workspace (owners only), live for 7 days."""
    token = accounts.new_token()
    async with pool.connection() as conn, conn.transaction():
        workspace = await require_owner(conn, user_id, "invite teammates")
        invite = await repo.insert_invite(
            conn,
            workspace_id=workspace.id,
            user_id=user_id,
            token_hash=accounts.token_hash(token),
            role=role,
            note=note,
            now=await db_now(conn),
            ttl=INVITE_TTL,
        )
    return NewInvite(invite=invite, token=token)


async def revoke_invite(pool: AsyncConnectionPool, user_id: int, invite_id: int) -> None:
    async with pool.connection() as conn, conn.transaction():
        workspace = await require_owner(conn, user_id, "revoke invites")
        if not await repo.delete_invite(conn, workspace.id, invite_id):
            raise TeamNotFound()


async def look_up(pool: AsyncConnectionPool, token: str) -> LinkedInvite:
    """The live invite a link names; `InviteNotFound` / `InviteGone` say why not."""
    async with pool.connection() as conn, conn.transaction():
        return _live(
            await repo.invite_by_token(conn, accounts.token_hash(token)), await db_now(conn)
        )


def _live(found: LinkedInvite | None, now: datetime) -> LinkedInvite:
    if found is None:
        raise InviteNotFound()
    sender = found.created_by_name or "the person who sent it"
    if found.invite.used_on is not None:
        raise InviteGone(f"This invite link has already been used. Ask {sender} for a new one.")
    if found.invite.expires_on <= now:
        raise InviteGone(f"This invite link has expired. Ask {sender} for a new one.")
    return found


async def accept(pool: AsyncConnectionPool, user_id: int, token: str) -> tuple[Workspace, bool]:
    """Join the invite's workspace with its role and spend the link; False: already a member
    (the link stays unspent for whoever it was meant for)."""
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        found = _live(await repo.invite_by_token(conn, accounts.token_hash(token)), now)
        invite = found.invite
        joined = await repo.add_member(conn, invite.workspace_id, user_id, invite.role, now=now)
        if joined:
            await repo.spend_invite(conn, invite.id, user_id, now=now)
        workspace = await repo.workspace(conn, invite.workspace_id, user_id)
    assert workspace is not None
    return workspace, joined


async def remove_member(pool: AsyncConnectionPool, user_id: int, member_id: int) -> None:
    """Remove a teammate (owners) or leave (anyone); the last owner cannot go."""
    async with pool.connection() as conn, conn.transaction():
        workspace = await current(conn, user_id)
        roles = await repo.lock_roles(conn, workspace.id)
        if member_id not in roles:
            raise TeamNotFound()
        if member_id != user_id and workspace.role != "owner":
            raise TeamForbidden(f"Only an owner of {workspace.name} can remove a teammate.")
        _keep_an_owner(roles, member_id, "leave" if member_id == user_id else "be removed")
        await repo.remove_member(conn, workspace.id, member_id)


async def set_role(pool: AsyncConnectionPool, user_id: int, member_id: int, role: Role) -> None:
    async with pool.connection() as conn, conn.transaction():
        workspace = await require_owner(conn, user_id, "change roles")
        roles = await repo.lock_roles(conn, workspace.id)
        if member_id not in roles:
            raise TeamNotFound()
        if role != "owner":
            _keep_an_owner(roles, member_id, "stop being one")
        await repo.set_role(conn, workspace.id, member_id, role)


def _keep_an_owner(roles: dict[int, Role], member_id: int, what: str) -> None:
    owners = [uid for uid, role in roles.items() if role == "owner"]
    if owners == [member_id]:
        raise TeamRefused(
            f"The workspace's last owner cannot {what}: make another member an owner first."
        )


async def sign_up(
    pool: AsyncConnectionPool, *, email: str, name: str, password: str
) -> accounts.Account:
    """A new account for someone joining by invite; an address that has one logs in instead."""
    if await accounts.find_account(pool, email.strip().lower()) is not None:
        raise accounts.AccountError(
            "there is already an account with this address: log in, then open the link again"
        )
    account, _ = await accounts.create_user(pool, email, password, name=name.strip())
    return account
