"""`/api/me`: who the caller is, their password, and their API tokens (list, revoke)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.responses import JSONResponse, Response

from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut, MeOut
from fluffymail.web.deps import CurrentAccount, OptionalSession, State
from fluffymail.web.errors import NotFound, WebError, error_body
from fluffymail.web.services import accounts

router = APIRouter(prefix="/api", tags=["account"], responses={401: {"model": ErrorOut}})
TokenId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: SecretStr = Field(min_length=1, max_length=1024)
    new_password: SecretStr = Field(min_length=8, max_length=1024)


class TokenOut(BaseModel):
    id: int
    name: str
    created_on: datetime
    last_used_on: datetime | None
    expires_on: datetime | None = Field(description="null: valid until revoked")
    expired: bool


class WrongPassword(WebError):
    """The current password is not right."""

    status, code = 400, "wrong_password"


@router.get("/me", response_model=MeOut, summary="The calling user")
async def me(account: CurrentAccount) -> MeOut:
    return MeOut(id=account.id, email=account.email, name=account.name, is_admin=account.is_admin)


@router.post(
    "/me/password",
    status_code=204,
    responses={400: {"model": ErrorOut}, 422: {"model": ErrorOut}, 429: {"model": ErrorOut}},
    summary="Change your password; every other session of yours ends (this one stays)",
)
async def change_password(
    body: PasswordIn,
    request: Request,
    state: State,
    account: CurrentAccount,
    session: OptionalSession,
) -> Response:
    keep = session.id if session is not None and session.account.id == account.id else None
    try:
        await accounts.change_password(
            state.pool,
            account,
            body.current_password.get_secret_value(),
            body.new_password.get_secret_value(),
            keep_session=keep,
            address=request.client.host if request.client else None,
        )
    except accounts.Throttled as exc:
        return JSONResponse(
            error_body("too_many_attempts", str(exc)),
            status_code=429,
            headers={"Retry-After": str(exc.wait)},
        )
    except accounts.WrongPassword as exc:
        raise WrongPassword(str(exc)) from exc
    return Response(status_code=204)


@router.get(
    "/me/tokens", response_model=list[TokenOut], summary="Your API tokens (never the tokens)"
)
async def list_tokens(state: State, account: CurrentAccount) -> list[TokenOut]:
    tokens = await accounts.list_api_tokens(state.pool, account.id)
    return [TokenOut.model_validate(token, from_attributes=True) for token in tokens]


@router.delete(
    "/me/tokens/{token_id}",
    status_code=204,
    responses={404: {"model": ErrorOut}},
    summary="Revoke one of your API tokens: it answers 401 from now on",
)
async def revoke_token(token_id: TokenId, state: State, account: CurrentAccount) -> Response:
    if await accounts.revoke_api_token(state.pool, token_id, account_id=account.id) is None:
        raise NotFound("no such API token of yours")
    return Response(status_code=204)
