"""`GET /api/me`: who the caller is."""

from __future__ import annotations

from fastapi import APIRouter

from fluffymail.web.api.schemas import ErrorOut, MeOut
from fluffymail.web.deps import CurrentAccount

router = APIRouter(prefix="/api", tags=["account"], responses={401: {"model": ErrorOut}})


@router.get("/me", response_model=MeOut, summary="The calling user")
async def me(account: CurrentAccount) -> MeOut:
    return MeOut(id=account.id, email=account.email, name=account.name, is_admin=account.is_admin)
