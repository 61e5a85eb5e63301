"""Company merges as the web app does them: the absorbed company's people, notes and tags move
to the other, new mail from its domain follows them (crm/contacts/sql/insert_companies.sql),
and undo moves them back. Both companies' activity logs tell of it, in the merge's own transaction.

Another user's company or merge looks exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.corrections import repo as fix_repo
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import activity
from fluffymail.web.services.companies import CompanyNotFound
from fluffymail.web.services.contacts import MergeRefused, db_now
from fluffymail.web.services.messages import Conn


class CompanyMergeNotFound(FluffyMailError):
    """No such company merge."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyMergeResult:
    merge_id: int
    into_company_id: int
    from_company_id: int
    contact_ids: tuple[int, ...]


async def merge_companies(
    pool: AsyncConnectionPool, user_id: int, *, into_id: int, from_id: int, actor: str
) -> CompanyMergeResult:
    """Move every person, note and tag of company `from_id` to `into_id`; new mail from its
    domain follows (reversible with `undo_company_merge`)."""
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        for company_id in sorted({into_id, from_id}):  # one lock order: no deadlock
            found = await fix_repo.lock_company(conn, user_id, company_id=company_id)
            if found is None:
                raise CompanyNotFound(f"no company {company_id}")
            if found.merged_into_id is not None:
                raise MergeRefused(f"{found.name} was already merged into another company")
            if company_id == from_id and found.absorbed:  # new mail follows one merge only
                raise MergeRefused(
                    f"other companies were merged into {found.name}; merge into it instead,"
                    " or undo those merges first"
                )
        if into_id == from_id:
            raise MergeRefused("a company cannot be merged into itself")
        moved = await fix_repo.move_people(conn, user_id, from_id, into_id, now)
        merge_id = await fix_repo.record_company_merge(
            conn, user_id, into_id=into_id, from_id=from_id, contact_ids=moved, actor=actor, now=now
        )
        await _log_company_merge(conn, user_id, "company.merged", merge_id, into_id, from_id)
    return CompanyMergeResult(
        merge_id=merge_id,
        into_company_id=into_id,
        from_company_id=from_id,
        contact_ids=tuple(moved),
    )


async def undo_company_merge(
    pool: AsyncConnectionPool, user_id: int, merge_id: int, *, actor: str
) -> CompanyMergeResult:
    """The absorbed company gets back the people that moved (those still at the other), its
    notes and its tags."""
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        merge = await fix_repo.get_company_merge(conn, user_id, merge_id)
        if merge is None:
            raise CompanyMergeNotFound(f"no company merge {merge_id}")
        if merge.unmerged_on is not None or not await fix_repo.record_company_unmerge(
            conn, merge_id, actor, now
        ):
            raise MergeRefused(f"company merge {merge_id} was already undone")
        back = await fix_repo.move_people(
            conn, user_id, merge.into_company_id, merge.from_company_id, now, merge.contact_ids
        )
        await _log_company_merge(
            conn,
            user_id,
            "company.unmerged",
            merge_id,
            merge.into_company_id,
            merge.from_company_id,
        )
    return CompanyMergeResult(
        merge_id=merge_id,
        into_company_id=merge.into_company_id,
        from_company_id=merge.from_company_id,
        contact_ids=tuple(back),
    )


async def _log_company_merge(
    conn: Conn, user_id: int, action: str, merge_id: int, into_id: int, from_id: int
) -> None:
    for subject, other in ((into_id, from_id), (from_id, into_id)):
        await activity.log(
            conn,
            user_id,
            ("company", subject),
            action,
            merge_id=merge_id,
            into_company_id=into_id,
            from_company_id=from_id,
            other_company_id=other,
        )


async def company_merges(
    pool: AsyncConnectionPool, user_id: int, company_id: int
) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        return await fix_repo.company_merges(conn, user_id, company_id)
