"""A user's companies as the web app shows them: the list (strongest relationship first) and one
company with its people ranked and a roll-up, plus the team's view when the network has one.

Every query carries the caller's user id: another user's company looks exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.relationships import figures as figures_mod
from fluffymail.crm.relationships import network
from fluffymail.crm.relationships.figures import Figures
from fluffymail.errors import FluffyMailError
from fluffymail.web.services.contacts import count_past_end
from fluffymail.web.services.messages import fetch_all, fetch_one
from fluffymail.web.services.paging import Page, display_score

PEOPLE_LIMIT = 200


class CompanyNotFound(FluffyMailError):
    """No such company."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyItem:
    id: int
    name: str
    domain: str
    people: int
    best_score: float | None
    last_interaction_on: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    id: int
    name: str
    primary_address: str
    is_internal: bool
    score: float | None
    level: str
    trend: str | None
    going_cold: bool
    last_interaction_on: datetime | None
    sent: int | None  # figures.sent: None while updating
    received: int | None
    figures: Figures = figures_mod.UPDATING

    @property
    def label(self) -> str:
        return self.name or self.primary_address


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollup:
    people: int
    internal_people: int
    best_score: float | None
    sent: int
    received: int
    going_cold: int
    first_interaction_on: datetime | None
    last_interaction_on: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyDetail:
    id: int
    name: str
    domain: str
    website: str | None
    people: tuple[Person, ...]
    rollup: Rollup
    paths_in: tuple[Any, ...] | None = None  # crm.relationships.network.PathIn
    team: Any = None  # crm.relationships.network.CompanyRollup


async def list_companies(
    pool: AsyncConnectionPool,
    user_id: int,
    *,
    q: str | None,
    limit: int,
    offset: int,
    tag_id: int | None = None,
) -> Page[CompanyItem]:
    """One page of the user's companies with visible people, strongest relationship first
    (only those with the tag `tag_id`, when given)."""
    text = (q or "").strip()
    params = {
        "user_id": user_id,
        "tag_id": tag_id,
        "limit": limit,
        "offset": offset,
        "search": text or None,  # folded in the SQL: "nestle" finds Nestlé
    }
    async with pool.connection() as conn:
        rows = await fetch_all(conn, "company_list", params)
        total = (
            rows[0]["total"]
            if rows
            else await count_past_end(conn, "company_count", params, offset)
        )
    items = tuple(
        CompanyItem(
            id=r["id"],
            name=r["name"],
            domain=r["domain"],
            people=r["people"],
            best_score=display_score(r["best_score"]),
            last_interaction_on=r["last_interaction_on"],
        )
        for r in rows
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


def _person(row: dict[str, Any]) -> Person:
    figures = figures_mod.from_json(row.get("figures"))
    return Person(
        id=row["id"],
        name=row["name"],
        primary_address=row["primary_address"],
        is_internal=row["is_internal"],
        score=figures.strength,
        level=figures.level or row["level"],
        trend=row["trend"],
        going_cold=row["going_cold"],
        last_interaction_on=figures.last_at,
        sent=figures.sent,
        received=figures.received,
        figures=figures,
    )


async def get_company(pool: AsyncConnectionPool, user_id: int, company_id: int) -> CompanyDetail:
    """The company with its people ranked; `CompanyNotFound` when missing or not the user's."""
    params = {"id": company_id, "user_id": user_id, "limit": PEOPLE_LIMIT}
    async with pool.connection() as conn:
        row = await fetch_one(conn, "company_get", params)
        if row is None:
            raise CompanyNotFound(f"no company {company_id}")
        people = await fetch_all(conn, "company_people", params)
        paths_in = tuple(await network.best_paths_in(conn, user_id, company_id=company_id))
        team = await network.company_rollup(conn, user_id, company_id)
    rollup = Rollup(
        people=row["people"],
        internal_people=row["internal_people"],
        best_score=display_score(row["best_score"]),
        sent=row["sent"],
        received=row["received"],
        going_cold=row["going_cold"],
        first_interaction_on=row["first_interaction_on"],
        last_interaction_on=row["last_interaction_on"],
    )
    return CompanyDetail(
        id=row["id"],
        name=row["name"],
        domain=row["domain"],
        website=row["website"],
        people=tuple(_person(p) for p in people),
        rollup=rollup,
        paths_in=paths_in,
        team=team,
    )
