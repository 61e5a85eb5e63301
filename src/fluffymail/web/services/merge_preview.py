"""What a merge will do, shown before it is confirmed: both records side by side and what
moves (a contact's addresses and mail; a company's people, notes and tags). Reads only;
another user's contact or company looks exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.corrections import repo as fix_repo
from fluffymail.crm.notes import repo as notes_repo
from fluffymail.crm.relationships import figures as figures_mod
from fluffymail.crm.tags import repo as tags_repo
from fluffymail.web.services.companies import PEOPLE_LIMIT, CompanyNotFound
from fluffymail.web.services.contacts import ContactNotFound, MergeRefused
from fluffymail.web.services.messages import Conn, fetch_all, fetch_one


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactSide:
    id: int
    label: str
    primary_address: str
    company: str | None
    addresses: tuple[str, ...]
    updating: bool  # its figures are being recomputed: no numbers, as on its page
    sent: int | None  # the figures of its page (crm.contact_figures), not the cached link counts
    received: int | None
    last_interaction_on: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactMergePreview:
    into: ContactSide
    other: ContactSide
    addresses: tuple[str, ...]  # those that move to `into`
    messages: int | None  # the mail that comes with them (the other's sent + received)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanySide:
    id: int
    name: str
    domain: str
    people: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyMergePreview:
    into: CompanySide
    other: CompanySide
    people: tuple[str, ...]  # the people who move (their names), strongest first
    notes: int = 0  # the other's notes, which move too
    tags: tuple[str, ...] = ()  # the other's tags, which the survivor gets


async def contact_merge(
    pool: AsyncConnectionPool, user_id: int, *, into_id: int, from_id: int
) -> ContactMergePreview:
    """`ContactNotFound` or `MergeRefused` exactly as the merge itself would answer."""
    async with pool.connection() as conn:
        into = await _contact(conn, user_id, into_id)
        if into_id == from_id:
            raise MergeRefused("a contact cannot be merged into itself")
        other = await _contact(conn, user_id, from_id)
    return ContactMergePreview(
        into=into,
        other=other,
        addresses=other.addresses,
        messages=None if other.updating else (other.sent or 0) + (other.received or 0),
    )


async def _contact(conn: Conn, user_id: int, contact_id: int) -> ContactSide:
    params = {"id": contact_id, "user_id": user_id}
    row = await fetch_one(conn, "contact_get", params)
    if row is None:
        raise ContactNotFound(f"no contact {contact_id}")
    if row["merged_into_id"] is not None:
        raise MergeRefused(
            f"contact {contact_id} is already merged into contact {row['merged_into_id']}"
        )
    found = await fetch_all(conn, "contact_addresses", params)
    figures = figures_mod.from_json(row["figures"])
    return ContactSide(
        id=row["id"],
        label=row["name"] or row["primary_address"],
        primary_address=row["primary_address"],
        company=row["company_name"],
        addresses=tuple(a["address"] for a in found),
        updating=figures.updating,
        sent=figures.sent,
        received=figures.received,
        last_interaction_on=figures.last_at,
    )


async def company_merge(
    pool: AsyncConnectionPool,
    user_id: int,
    *,
    into_id: int,
    from_id: int | None = None,
    from_domain: str | None = None,
) -> CompanyMergePreview:
    """The other company by id or by domain; `CompanyNotFound` / `MergeRefused` as the merge."""
    async with pool.connection() as conn, conn.transaction():
        into = await _company(conn, user_id, company_id=into_id)
        other = await _company(conn, user_id, company_id=from_id, domain=from_domain)
        if other.id == into.id:
            raise MergeRefused("a company cannot be merged into itself")
        people: list[dict[str, Any]] = await fetch_all(
            conn, "company_people", {"id": other.id, "user_id": user_id, "limit": PEOPLE_LIMIT}
        )
        notes = await notes_repo.notes_for_company(conn, other.id)
        tags = (await tags_repo.tags_of_companies(conn, user_id, [other.id])).get(other.id, [])
    return CompanyMergePreview(
        into=into,
        other=other,
        people=tuple(p["name"] or p["primary_address"] for p in people),
        notes=len(notes),
        tags=tuple(t.name for t in tags),
    )


async def _company(
    conn: Conn, user_id: int, *, company_id: int | None, domain: str | None = None
) -> CompanySide:
    if company_id is None and not domain:
        raise CompanyNotFound("choose the other company")
    domain = domain.strip().lower() if domain else None
    found = await fix_repo.lock_company(conn, user_id, company_id=company_id, domain=domain)
    if found is None:
        raise CompanyNotFound(f"no company {company_id or domain}")
    if found.merged_into_id is not None:
        raise MergeRefused(f"{found.name} was already merged into another company")
    row = await fetch_one(conn, "people_at_company", {"id": found.id, "user_id": user_id})
    assert row is not None
    return CompanySide(id=found.id, name=found.name, domain=found.domain, people=row["people"])
