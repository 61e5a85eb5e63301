"""Companies: the list (strongest relationship first) and one company with its people ranked
and a roll-up. Someone else's company answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fluffymail.web.api.contact_schemas import CompanyDetailOut, CompanyItemOut, CompanyPageOut
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import companies as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["companies"], responses=ERRORS)
CompanyId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.get("/companies", response_model=CompanyPageOut, summary="Companies you know people at")
async def list_companies(
    state: State,
    account: CurrentAccount,
    q: Annotated[
        str | None,
        Query(
            max_length=200, pattern=r"^[^\x00]*$", description="Matches company names and domains"
        ),
    ] = None,
    tag: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="Only those with this tag (its id)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CompanyPageOut:
    page = await service.list_companies(
        state.pool, account.id, q=q, limit=limit, offset=offset, tag_id=tag
    )
    return CompanyPageOut(
        items=[CompanyItemOut.model_validate(i) for i in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_offset=page.next_offset,
    )


@router.get(
    "/companies/{company_id}",
    response_model=CompanyDetailOut,
    responses=NOT_FOUND,
    summary="One company: your people there, strongest first, and a roll-up",
)
async def get_company(
    company_id: CompanyId, state: State, account: CurrentAccount
) -> CompanyDetailOut:
    return CompanyDetailOut.model_validate(
        await service.get_company(state.pool, account.id, company_id)
    )
