"""The workspace's tags and tagging the user's contacts and companies, one or many at once;
every change is logged in the activity log in its own transaction.

A tag of another workspace, or a contact or company of another user, looks exactly like a
missing one. Every teammate makes tags and puts them on their own contacts; only the
workspace's owners rename, recolour or delete one (it changes every teammate's tags and views).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm import text as text_rules
from fluffymail.crm.tags import repo as tags_repo
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import activity
from fluffymail.web.services import lists as lists_service
from fluffymail.web.services import team as team_service
from fluffymail.web.services.live_contacts import require_live_contacts
from fluffymail.web.services.messages import Conn
from fluffymail.web.services.notes import require_live_subject, require_subject

Tag = tags_repo.Tag
COLOURS = tags_repo.COLOURS
NAME_MAX = 40
BULK_MAX = 1000


class TagNotFound(FluffyMailError):
    """No such tag."""


class TagRefused(FluffyMailError):
    """The tag cannot be saved."""


class TagConflict(FluffyMailError):
    """There is already a tag by that name."""


def check_name(name: str) -> str:
    name = text_rules.clean_name(name)
    if not name:
        raise TagRefused("a tag needs a name")
    if len(name) > NAME_MAX:
        raise TagRefused(f"a tag's name can be at most {NAME_MAX} characters")
    return name


def check_colour(colour: str) -> str:
    if colour not in COLOURS:
        raise TagRefused(f"the colour must be one of {', '.join(COLOURS)}")
    return colour


async def list_tags(pool: AsyncConnectionPool, user_id: int) -> list[Tag]:
    async with pool.connection() as conn:
        return await tags_repo.list_tags(conn, await activity.workspace_of(conn, user_id), user_id)


async def get_tag(pool: AsyncConnectionPool, user_id: int, tag_id: int) -> Tag:
    async with pool.connection() as conn:
        return await _tag(conn, user_id, tag_id)


async def _tag(conn: Conn, user_id: int, tag_id: int) -> Tag:
    workspace_id = await activity.workspace_of(conn, user_id)
    tag = await tags_repo.get_tag(conn, workspace_id, tag_id, user_id=user_id)
    if tag is None:
        raise TagNotFound(f"no tag {tag_id}")
    return tag


async def create_tag(pool: AsyncConnectionPool, user_id: int, name: str, colour: str) -> Tag:
    async with pool.connection() as conn, conn.transaction():
        return await _create(conn, user_id, name, colour)


async def _named(conn: Conn, user_id: int, name: str, colour: str) -> Tag:
    """The workspace's tag by that name (ignoring case), else a new one in `colour`."""
    workspace_id = await activity.workspace_of(conn, user_id)
    found = await tags_repo.tag_by_name(conn, workspace_id, check_name(name))
    return found or await _create(conn, user_id, name, colour)


async def _create(conn: Conn, user_id: int, name: str, colour: str) -> Tag:
    name, colour = check_name(name), check_colour(colour)
    workspace_id = await activity.workspace_of(conn, user_id)
    try:
        tag = await tags_repo.create_tag(
            conn, workspace_id, name=name, colour=colour, user_id=user_id
        )
    except tags_repo.DuplicateName:
        raise TagConflict(f"there is already a tag called {name!r}") from None
    await activity.log(conn, user_id, ("tag", tag.id), "tag.created", name=name, colour=colour)
    return tag


async def update_tag(
    pool: AsyncConnectionPool, user_id: int, tag_id: int, *, name: str | None, colour: str | None
) -> Tag:
    """Rename or recolour the workspace's tag (owners: `TeamForbidden` for a member); the
    saved views filtering on it follow a rename in the same transaction."""
    async with pool.connection() as conn, conn.transaction():
        before = await _tag(conn, user_id, tag_id)  # 404 before any 403 or 400
        workspace_id = (
            await team_service.require_owner(conn, user_id, "rename or recolour tags")
        ).id
        name = check_name(name) if name is not None else None
        colour = check_colour(colour) if colour is not None else None
        try:
            tag = await tags_repo.update_tag(conn, workspace_id, tag_id, name=name, colour=colour)
        except tags_repo.DuplicateName:
            raise TagConflict(f"there is already a tag called {name!r}") from None
        if tag is None:  # deleted meanwhile
            raise TagNotFound(f"no tag {tag_id}")
        if tag.name != before.name:  # saved views find their tag by name: they follow it
            await lists_service.follow_tag_rename(
                conn, user_id, workspace_id, before.name, tag.name
            )
        await activity.log(
            conn,
            user_id,
            ("tag", tag_id),
            "tag.changed",
            before=before.name,
            name=tag.name,
            colour=tag.colour,
        )
        return await _tag(conn, user_id, tag_id)  # with its count


async def delete_tag(pool: AsyncConnectionPool, user_id: int, tag_id: int) -> Tag:
    """Delete the workspace's tag from everything (owners: `TeamForbidden` for a member)."""
    async with pool.connection() as conn, conn.transaction():
        tag = await _tag(conn, user_id, tag_id)
        workspace = await team_service.require_owner(conn, user_id, "delete tags")
        carriers = await tags_repo.carriers(conn, workspace.id, tag_id)
        await tags_repo.delete_tag(conn, workspace.id, tag_id)
        await activity.log(conn, user_id, ("tag", tag_id), "tag.deleted", name=tag.name)
        # Each contact's and company's history says the tag came off it (QA: it said only
        # that the tag was put on, and nothing when the tag was deleted).
        await activity.log_many(
            conn, user_id, carriers, "tag.removed", tag_id=tag_id, tag=tag.name, deleted=True
        )
    return tag


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkResult:
    tag: Tag
    action: Literal["tag", "untag"]
    changed: tuple[int, ...]  # the contacts it went on (or came off)
    unchanged: tuple[int, ...]  # those already so


async def bulk(
    pool: AsyncConnectionPool,
    user_id: int,
    action: Literal["tag", "untag"],
    tag_id: int | None,
    contact_ids: Sequence[int],
    *,
    new_tag: tuple[str, str] | None = None,
) -> BulkResult:
    """Tag or untag the contacts, all or none: `ContactNotFound` (and no change) when any is
    not the user's, `SubjectMerged` when any was merged into another (naming the contact it
    joined). Without `tag_id`, a new tag (name, colour) is made in the same transaction (or
    the workspace's tag by that name), so a refused change leaves no tag behind either."""
    wanted = sorted(set(contact_ids))
    async with pool.connection() as conn, conn.transaction():
        if tag_id is not None:
            tag = await _tag(conn, user_id, tag_id)
        elif new_tag is not None and action == "tag":
            tag = await _named(conn, user_id, *new_tag)
        else:
            raise TagRefused("choose a tag")
        await require_live_contacts(conn, user_id, wanted)
        change = tags_repo.tag_contacts if action == "tag" else tags_repo.untag_contacts
        changed = await change(conn, user_id, tag.id, wanted)
        verb = "tag.added" if action == "tag" else "tag.removed"
        for contact_id in changed:
            await activity.log(
                conn, user_id, ("contact", contact_id), verb, tag_id=tag.id, tag=tag.name
            )
        tag = await _tag(conn, user_id, tag.id)  # its count after the change
    return BulkResult(
        tag=tag,
        action=action,
        changed=tuple(changed),
        unchanged=tuple(i for i in wanted if i not in changed),
    )


async def set_company_tag(
    pool: AsyncConnectionPool,
    user_id: int,
    company_id: int,
    tag_id: int | None,
    *,
    on: bool,
    new_tag: tuple[str, str] | None = None,
) -> Tag:
    """Put the tag on the user's company (`on`) or take it off; logged when it changed.
    Without `tag_id`, the tag named (name, colour) is found or made in the same transaction."""
    async with pool.connection() as conn, conn.transaction():
        # Only a live company takes a tag (one merged away answers with the company it went to).
        check = require_live_subject if on else require_subject
        await check(conn, user_id, "company", company_id)
        if tag_id is not None:
            tag = await _tag(conn, user_id, tag_id)
        elif new_tag is not None and on:
            tag = await _named(conn, user_id, *new_tag)
        else:
            raise TagRefused("choose a tag")
        tag_id = tag.id
        change = tags_repo.tag_company if on else tags_repo.untag_company
        if await change(conn, user_id, tag_id, company_id):
            verb = "tag.added" if on else "tag.removed"
            await activity.log(
                conn, user_id, ("company", company_id), verb, tag_id=tag.id, tag=tag.name
            )
    return tag


async def contact_tags(pool: AsyncConnectionPool, user_id: int, contact_id: int) -> list[Tag]:
    async with pool.connection() as conn:
        await require_subject(conn, user_id, "contact", contact_id)
        found = await tags_repo.tags_of_contacts(conn, user_id, [contact_id])
    return found.get(contact_id, [])


async def company_tags(pool: AsyncConnectionPool, user_id: int, company_id: int) -> list[Tag]:
    async with pool.connection() as conn:
        await require_subject(conn, user_id, "company", company_id)
        found = await tags_repo.tags_of_companies(conn, user_id, [company_id])
    return found.get(company_id, [])


async def tags_of_contacts(
    pool: AsyncConnectionPool, user_id: int, contact_ids: Sequence[int]
) -> dict[int, list[Tag]]:
    if not contact_ids:
        return {}
    async with pool.connection() as conn:
        return await tags_repo.tags_of_contacts(conn, user_id, contact_ids)


async def tags_of_companies(
    pool: AsyncConnectionPool, user_id: int, company_ids: Sequence[int]
) -> dict[int, list[Tag]]:
    if not company_ids:
        return {}
    async with pool.connection() as conn:
        return await tags_repo.tags_of_companies(conn, user_id, company_ids)
