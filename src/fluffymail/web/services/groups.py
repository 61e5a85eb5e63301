"""The user's groups (distribution lists, team addresses) and the people seen writing to each.

Another user's group, or a person's contact id, looks exactly like a missing group.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.groups import repo as groups_repo
from fluffymail.errors import FluffyMailError

Group = groups_repo.Group
Member = groups_repo.Member
NamedGroup = groups_repo.NamedGroup
REASONS = {
    "dl_address": "its address is a distribution list's (DL-…)",
    "group_word_address": "its address names a team or list",
    "group_word_name": "its display name names a team or list",
    "fanout": "mail to it reached you without naming you, from several senders",
    "group_syntax": "written as a group in the headers",
}


class GroupNotFound(FluffyMailError):
    """No such group."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDetail:
    group: Group
    why: str
    members: tuple[Member, ...]


async def list_groups(pool: AsyncConnectionPool, user_id: int) -> list[Group]:
    async with pool.connection() as conn:
        return await groups_repo.list_groups(conn, user_id)


async def named_groups(pool: AsyncConnectionPool, user_id: int) -> list[NamedGroup]:
    """The RFC 5322 groups (`To: Team: a@x, b@y;`) the user's mail names, with their members."""
    async with pool.connection() as conn:
        return await groups_repo.named_groups(conn, user_id)


async def get_group(pool: AsyncConnectionPool, user_id: int, group_id: int) -> GroupDetail:
    async with pool.connection() as conn:
        group = await groups_repo.get_group(conn, user_id, group_id)
        if group is None:
            raise GroupNotFound
        members = await groups_repo.members(conn, user_id, group_id)
    return GroupDetail(
        group=group, why=REASONS.get(group.reason, group.reason), members=tuple(members)
    )
