"""Request dependencies: the app's shared state, the caller (session cookie or API token),
admin checks and CSRF verification.

API routes accept either credential; a cookie-authenticated unsafe request must also carry the
session's CSRF token (`X-CSRF-Token` header or `csrf_token` form field). Bearer tokens need none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.queue import JobQueue
from fluffymail.queue.metrics import QueueMetrics
from fluffymail.web.errors import CsrfFailed, NotAllowed, NotAuthenticated
from fluffymail.web.services import accounts, limits
from fluffymail.web.services.accounts import Account, Session
from fluffymail.web.services.ttl_cache import TtlCache

SESSION_COOKIE = "fm_session"
LOGIN_CSRF_COOKIE = "fm_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="An API token: `fluffymail users token EMAIL`")

EXPLANATION_TTL = 30.0  # seconds


@dataclass(slots=True, kw_only=True)
class AppState:
    """What the lifespan opened: shared by every request, closed at shutdown."""

    settings: Settings
    pool: AsyncConnectionPool
    queue: JobQueue
    metrics: QueueMetrics
    connection_tests: limits.BlockingRunner  # test logins: their own pool, few per user
    uploads: limits.UserSlots  # uploads in progress per user
    # connections' "why no contacts" lines, read again at most every 30 s by the polled list
    explanations: TtlCache = field(default_factory=lambda: TtlCache(EXPLANATION_TTL))


def get_state(request: Request) -> AppState:
    return request.app.state.fm


def secure_cookies(request: Request) -> bool:
    """Mark cookies Secure: always in production (behind a TLS proxy the app may see plain
    http), elsewhere when the request came over https."""
    return get_state(request).settings.is_production or request.url.scheme == "https"


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


State = Annotated[AppState, Depends(get_state)]
Templates = Annotated[Jinja2Templates, Depends(get_templates)]


async def _bearer_account(
    credentials: HTTPAuthorizationCredentials | None, state: AppState
) -> Account | None:
    if credentials is None or not credentials.credentials.strip():
        return None
    account = await accounts.account_for_token(state.pool, credentials.credentials.strip())
    if account is None:
        raise NotAuthenticated("unknown API token")
    return account


async def optional_session(request: Request, state: State) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await accounts.get_session(state.pool, token)


async def _submitted_csrf(request: Request) -> str | None:
    """The CSRF token from the header, else from the form. A parsed form's file parts are closed
    at once: no route takes files from a parsed form (uploads stream their body), so a spooled
    temporary file would otherwise outlive the request."""
    if header := request.headers.get("x-csrf-token"):
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        await form.close()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def verify_csrf(request: Request, session: Session) -> None:
    if request.method in SAFE_METHODS:
        return
    if not accounts.csrf_matches(session, await _submitted_csrf(request)):
        raise CsrfFailed()


async def current_account(
    request: Request,
    state: State,
    session: Annotated[Session | None, Depends(optional_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Account:
    """The caller by API token, else by session cookie (CSRF-checked on unsafe methods)."""
    if (account := await _bearer_account(credentials, state)) is not None:
        return account
    if session is None:
        raise NotAuthenticated()
    await verify_csrf(request, session)
    return session.account


async def admin_account(account: Annotated[Account, Depends(current_account)]) -> Account:
    if not account.is_admin:
        raise NotAllowed()
    return account


async def page_session(
    request: Request, session: Annotated[Session | None, Depends(optional_session)]
) -> Session:
    """A logged-in browser (pages redirect to /login otherwise); unsafe methods check CSRF."""
    if session is None:
        raise NotAuthenticated()
    await verify_csrf(request, session)
    return session


async def admin_page_session(session: Annotated[Session, Depends(page_session)]) -> Session:
    if not session.account.is_admin:
        raise NotAllowed()
    return session


CurrentAccount = Annotated[Account, Depends(current_account)]
AdminAccount = Annotated[Account, Depends(admin_account)]
PageSession = Annotated[Session, Depends(page_session)]
AdminPageSession = Annotated[Session, Depends(admin_page_session)]
OptionalSession = Annotated[Session | None, Depends(optional_session)]
