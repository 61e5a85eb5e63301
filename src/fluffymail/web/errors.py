"""Every error the web app answers, mapped to HTTP in this one place.

JSON routes answer `{"error": {"code": ..., "message": ...}}` (validation errors add
`details`); pages get an error page, or a redirect to the login page when not logged in.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from fluffymail.errors import FluffyMailError
from fluffymail.queue import InvalidOptionError, UnknownQueueError
from fluffymail.web.services.accounts import AccountError
from fluffymail.web.services.companies import CompanyNotFound
from fluffymail.web.services.connections import ConnectionNotFound
from fluffymail.web.services.contacts import ContactNotFound, MergeNotFound, MergeRefused
from fluffymail.web.services.messages import MessageNotFound

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
    (CompanyNotFound, 404, "not_found"),
    (MessageNotFound, 404, "not_found"),
    (MergeNotFound, 404, "not_found"),
    (MergeRefused, 409, "conflict"),
    (UnknownQueueError, 404, "not_found"),
    (InvalidOptionError, 400, "bad_request"),
    (AccountError, 400, "bad_request"),
]
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


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


def _respond(request: Request, status: int, code: str, message: str, **extra: Any) -> Response:
    if status == 401 and not wants_json(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if wants_json(request) or request.headers.get("hx-request"):
        return JSONResponse(error_body(code, message, **extra), status_code=status)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "session": None},
        status_code=status,
    )


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    return _respond(request, exc.status, exc.code, str(exc))


async def _domain_error(request: Request, exc: Exception) -> Response:
    for kind, status, code in _DOMAIN:
        if isinstance(exc, kind):
            return _respond(request, status, code, str(exc))
    log.error("unmapped error", exc_info=exc, extra={"action": "web.error"})
    return _respond(request, 500, "internal", "FluffyMail failed; the error was logged.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    response = _respond(request, exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [{"loc": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['message']}" if where else str(first["message"])
    return _respond(request, 422, "validation_error", message, details=jsonable_encoder(details))


async def _data_error(request: Request, exc: Exception) -> Response:
    # Values PostgreSQL refuses (NUL bytes, out-of-range numbers) are the client's mistake.
    return _respond(request, 400, "bad_request", f"value refused by the database: {exc}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled error", exc_info=exc, extra={"action": "web.error", "path": request.url.path}
    )
    return _respond(request, 500, "internal", "FluffyMail failed; the error was logged.")


def install(app: FastAPI) -> None:
    """Register every handler on `app`."""
    app.add_exception_handler(WebError, _web_error)
    app.add_exception_handler(FluffyMailError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
