"""Every error the web app answers, mapped to HTTP in this one place.

JSON routes answer `{"error": {"code": ..., "message": ...}}` (validation errors add
`details`); pages get an error page in the normal layout (drawn by the `page` renderer the
app installs, web/ui/error_page.py), or a redirect to the login page when not logged in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from fluffymail.crm.lists.filters import FilterError
from fluffymail.errors import FluffyMailError
from fluffymail.queue import InvalidOptionError, UnknownQueueError
from fluffymail.web.services.accounts import AccountError
from fluffymail.web.services.companies import CompanyNotFound
from fluffymail.web.services.company_merges import CompanyMergeNotFound
from fluffymail.web.services.connections import ConnectionNotFound
from fluffymail.web.services.contacts import ContactNotFound, MergeNotFound, MergeRefused
from fluffymail.web.services.corrections import AddressTaken, EditRefused
from fluffymail.web.services.followups import FollowupClosed, FollowupNotFound, FollowupRefused
from fluffymail.web.services.groups import GroupNotFound
from fluffymail.web.services.lists import ListConflict, ListForbidden, ListNotFound, ListRefused
from fluffymail.web.services.live_contacts import SubjectMerged
from fluffymail.web.services.meetings import IcsRefused
from fluffymail.web.services.message_search import BadCursor
from fluffymail.web.services.messages import MessageNotFound
from fluffymail.web.services.notes import NoteChanged, NoteNotFound, NoteRefused
from fluffymail.web.services.problems import ServiceProblem
from fluffymail.web.services.tags import TagConflict, TagNotFound, TagRefused
from fluffymail.web.services.team import (
    InviteGone,
    InviteNotFound,
    TeamForbidden,
    TeamNotFound,
    TeamRefused,
)
from fluffymail.web.services.webhooks import DeliveryNotFound, WebhookNotFound, WebhookRefused

log = logging.getLogger("fluffymail.web")


class WebError(FluffyMailError):
    """The request cannot be served."""

    status = 400
    code = "bad_request"


class NotAuthenticated(WebError):
    """Log in, or send an API token as `Authorization: Bearer <token>`."""

    status, code = 401, "not_authenticated"


class NotAllowed(WebError):
    """This needs an administrator."""

    status, code = 403, "forbidden"


class CsrfFailed(WebError):
    """The form's security token is missing or stale; reload the page and try again."""

    status, code = 403, "csrf_failed"


class NotFound(WebError):
    """Not found."""

    status, code = 404, "not_found"


class Conflict(WebError):
    """The request conflicts with the current state."""

    status, code = 409, "conflict"


# Domain errors from outside the web layer: (status, code).
_DOMAIN: list[tuple[type[Exception], int, str]] = [
    (ConnectionNotFound, 404, "not_found"),
    (ContactNotFound, 404, "not_found"),
    (GroupNotFound, 404, "not_found"),
    (CompanyNotFound, 404, "not_found"),
    (MessageNotFound, 404, "not_found"),
    (BadCursor, 400, "bad_cursor"),
    (MergeNotFound, 404, "not_found"),
    (MergeRefused, 409, "conflict"),
    (NoteNotFound, 404, "not_found"),
    (NoteRefused, 400, "bad_request"),
    (SubjectMerged, 409, "conflict"),
    (NoteChanged, 412, "precondition_failed"),
    (TagNotFound, 404, "not_found"),
    (TagRefused, 400, "bad_request"),
    (TagConflict, 409, "conflict"),
    (ListNotFound, 404, "not_found"),
    (ListRefused, 400, "bad_request"),
    (ListForbidden, 403, "forbidden"),
    (ListConflict, 409, "conflict"),
    (FilterError, 400, "bad_filter"),
    (EditRefused, 400, "bad_request"),
    (AddressTaken, 409, "conflict"),
    (CompanyMergeNotFound, 404, "not_found"),
    (FollowupNotFound, 404, "not_found"),
    (FollowupRefused, 400, "bad_request"),
    (FollowupClosed, 409, "conflict"),
    (WebhookNotFound, 404, "not_found"),
    (DeliveryNotFound, 404, "not_found"),
    (WebhookRefused, 400, "bad_request"),
    (UnknownQueueError, 404, "not_found"),
    (InvalidOptionError, 400, "bad_request"),
    (AccountError, 400, "bad_request"),
    (TeamForbidden, 403, "forbidden"),
    (TeamNotFound, 404, "not_found"),
    (TeamRefused, 409, "conflict"),
    (InviteNotFound, 404, "not_found"),
    (InviteGone, 410, "gone"),
    (IcsRefused, 400, "bad_ics"),
]
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    412: "precondition_failed",
    415: "unsupported_media_type",
    422: "validation_error",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """An error about to be answered: as JSON (status, code, message) or as a page. A page
    says `page_message` (a message already written for people, e.g. a `WebError`'s) or words
    the validation `errors` (pydantic's: loc, type, ctx) itself; never `message`, which is for
    developers."""

    status: int
    code: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    page_message: str | None = None


INTERNAL = Problem(status=500, code="internal", message="FluffyMail failed; the error was logged.")
PageRenderer = Callable[[Request, Problem], Awaitable[Response]]


def wants_json(request: Request) -> bool:
    """API routes and non-browser clients get JSON; browsers on pages get HTML."""
    if request.url.path.startswith("/api") or request.url.path in (
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        return True
    return "text/html" not in request.headers.get("accept", "")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


async def _respond(request: Request, problem: Problem, **extra: Any) -> Response:
    if problem.status == 401 and not wants_json(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if wants_json(request) or request.headers.get("hx-request"):
        body = error_body(problem.code, problem.message, **extra)
        return JSONResponse(body, status_code=problem.status)
    page: PageRenderer = request.app.state.error_page
    return await page(request, problem)


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    return await _refused(request, exc, exc.status, exc.code)


async def _domain_error(request: Request, exc: Exception) -> Response:
    known = _domain_status(exc)
    if known is None:
        log.error("unmapped error", exc_info=exc, extra={"action": "web.error"})
        return await _respond(request, INTERNAL)
    return await _refused(request, exc, *known)


def _domain_status(exc: Exception) -> tuple[int, str] | None:
    """A domain error's status and code: its own (a `ServiceProblem`), else from `_DOMAIN`."""
    if isinstance(exc, ServiceProblem):
        return exc.status, exc.code
    return next(((status, code) for kind, status, code in _DOMAIN if isinstance(exc, kind)), None)


async def _refused(request: Request, exc: Exception, status: int, code: str) -> Response:
    """A refusal written for people: its message is the error page's too. A refusal that
    carries `details` (e.g. `SubjectMerged`: each merged contact and the one it joined) gives
    them to the API as `details`, for a client to act on without reading the message."""
    message = str(exc)
    problem = Problem(status=status, code=code, message=message, page_message=message)
    details = getattr(exc, "details", None)
    return await _respond(request, problem, **({"details": details} if details else {}))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    problem = Problem(status=exc.status_code, code=code, message=str(exc.detail))
    response = await _respond(request, problem)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [{"loc": list(e.get("loc", ())), "message": _in_words(e)} for e in exc.errors()]
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['message']}" if where else str(first["message"])
    problem = Problem(
        status=422, code="validation_error", message=message, errors=list(exc.errors())
    )
    return await _respond(request, problem, details=jsonable_encoder(details))


_CONTROL = frozenset(map(chr, [*range(0x20), 0x7F]))


def _in_words(error: Any) -> str:
    """A validation error's message for people: a value that fails a field's pattern said as
    what is wrong with it ("must not be blank"), never the regular expression it failed."""
    message = str(error.get("msg", ""))
    value = error.get("input")
    if error.get("type") != "string_pattern_mismatch" or not isinstance(value, str):
        return message
    if _CONTROL & set(value):
        return "must not hold control characters (line breaks, tabs or NUL)"
    if not value.strip():
        return "must not be blank"
    return "holds characters this field does not take"


def _primary(exc: Exception) -> str:
    """The database's one-line reason, without its detail, hint or context lines."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    lines = str(exc).splitlines()
    return (primary or (lines[0] if lines else "") or "invalid value")[:200]


async def _data_error(request: Request, exc: Exception) -> Response:
    # Values PostgreSQL refuses (NUL bytes, out-of-range numbers) are the client's mistake.
    problem = Problem(
        status=400,
        code="bad_request",
        message=f"value refused by the database: {_primary(exc)}",
        page_message="The address or form holds a value FluffyMail cannot look up or store.",
    )
    return await _respond(request, problem)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled error", exc_info=exc, extra={"action": "web.error", "path": request.url.path}
    )
    return await _respond(request, INTERNAL)


def install(app: FastAPI, page: PageRenderer) -> None:
    """Register every handler on `app`; `page` draws the error pages browsers get."""
    app.state.error_page = page
    app.add_exception_handler(WebError, _web_error)
    app.add_exception_handler(FluffyMailError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
