"""Idempotency keys on creates: a client retrying a POST with the same `Idempotency-Key` gets
the first response again instead of a second record (as Stripe and the IETF draft
`draft-ietf-httpapi-idempotency-key-header` describe).

A route opts in by depending on `Idempotent` and living on a router built with
`route_class=IdempotentRoute`. Keys are the caller's own, kept 24 hours with a hash of the
first request (method, path, query and body) and its response (encrypted with the secret
key, as connection credentials are: an invite's answer holds its link): the same key with the same
request answers the stored response (header `Idempotent-Replayed: true`); with another request
422; while the first is still running 409. A first request that fails (an error answer, a
crash) leaves no trace, so it can be retried with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.web.api.schemas import ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.errors import WebError
from fluffymail.web.services.messages import SQL

HEADER = "Idempotency-Key"
MAX_KEY = 255


class KeyReused(WebError):
    """This Idempotency-Key was already used with a different request; use a new key."""

    status, code = 422, "idempotency_key_reused"


class KeyInFlight(WebError):
    """A request with this Idempotency-Key is still being processed; retry in a moment."""

    status, code = 409, "idempotency_key_in_flight"


@dataclass(frozen=True, slots=True)
class _Claim:
    user_id: int
    key: str


class _Replay(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


def _request_hash(request: Request, body: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.digest()


async def _claim(request: Request, state: State, account: CurrentAccount, key: str) -> None:
    params: dict[str, Any] = {
        "user_id": account.id,
        "key": key,
        "request_hash": _request_hash(request, await request.body()),
    }
    async with state.pool.connection() as conn, conn.transaction():
        await conn.execute(SQL["idempotency_prune"], params)
        if await (await conn.execute(SQL["idempotency_claim"], params)).fetchone():
            request.state.idempotency = _Claim(account.id, key)
            return
        row = await (await conn.execute(SQL["idempotency_get"], params)).fetchone()
    assert row is not None  # claimed by another request, which holds it until it answers
    stored_hash, status, body = row
    if bytes(stored_hash) != params["request_hash"]:
        raise KeyReused()
    if status is None:
        raise KeyInFlight()
    raise _Replay(status, _unsealed(state.settings, bytes(body or b"")))


def _unsealed(settings: Settings, body: bytes) -> bytes:
    """A stored response as it was sent. Stored encrypted, since a create's answer may hold
    a secret (an invite's link) that a copy of the database must not give away; one stored
    before they were, as it is."""
    if not body or body[:1] in (b"{", b"["):
        return body
    return secrets.open_box(settings).decrypt(body)


async def idempotency_key(
    request: Request,
    state: State,
    account: CurrentAccount,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=MAX_KEY,
            description="A unique key per create (e.g. a UUID): a retry with the same key and "
            "body answers the first response (kept 24 h) instead of creating twice.",
        ),
    ] = None,
) -> None:
    """Claim the caller's key for this request, or answer the response stored for it."""
    if key is not None:
        await _claim(request, state, account, key)


Idempotent = Depends(idempotency_key)
RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorOut,
        "description": "A conflict, or this Idempotency-Key's first request is still running",
    },
    422: {
        "model": ErrorOut,
        "description": "Invalid input, or this Idempotency-Key was used with another request",
    },
}


async def _settle(request: Request, response: Response | None) -> None:
    """Store the first response under the claimed key, or let the key go."""
    claim: _Claim | None = getattr(request.state, "idempotency", None)
    if claim is None:
        return
    params = {"user_id": claim.user_id, "key": claim.key}
    ok = response is not None and response.status_code < 400 and hasattr(response, "body")
    state = request.app.state.fm
    async with state.pool.connection() as conn:
        if ok:
            assert response is not None
            body = secrets.open_box(state.settings).encrypt(bytes(response.body))
            stored = {"status": response.status_code, "body": body}
            await conn.execute(SQL["idempotency_store"], {**params, **stored})
        else:
            await conn.execute(SQL["idempotency_release"], params)


class IdempotentRoute(APIRoute):
    """Runs `idempotency_key`'s verdict: replays stored answers, stores first ones."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Replay as replay:
                headers = {"Idempotent-Replayed": "true"}
                return Response(replay.body, replay.status, headers, "application/json")
            except BaseException:
                await _settle(request, None)
                raise
            await _settle(request, response)
            return response

        return run
