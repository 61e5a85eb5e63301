"""Connecting Gmail with OAuth 2.0 (google-auth-oauthlib's Flow): the authorisation URL and
the callback that exchanges the code, stores the tokens encrypted and creates the connection.

A sign-in belongs to the browser session that started it. The random `state` sent to Google is
kept server-side (only its hash) with that session, the user, the redirect URI and the PKCE
code verifier (only its S256 challenge leaves the server). The callback takes it once, within
`STATE_MAX_AGE`, and only from the same logged-in session: a link started by one user and
approved in someone else's browser cannot attach that person's mailbox to the starter.
"""

from __future__ import annotations

import asyncio
import logging
import secrets as random
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.db.sql import load_sql
from fluffymail.integrations.calendar.google import SCOPE as CALENDAR_SCOPE
from fluffymail.integrations.mail.gmail import SCOPES, GmailSource, GmailToken
from fluffymail.integrations.mail.source import AuthError, SourceError, TransientSourceError
from fluffymail.jobs.gmail_grant import gmail_config, gmail_credentials
from fluffymail.queue import JobQueue
from fluffymail.web.services.accounts import Session, token_hash
from fluffymail.web.services.connections import ConnectionProblem, Created, save_connection

__all__ = [
    "STATE_MAX_AGE", "Authorization", "PendingSignIn", "authorization", "complete",
    "configured", "ensure_configured", "take_state",
]  # fmt: skip

STATE_MAX_AGE = 10 * 60
OAUTH_SCOPES = (*SCOPES, CALENDAR_SCOPE)  # mail, and the calendar read-only (issue 14)
SQL = load_sql("fluffymail.web")
log = logging.getLogger("fluffymail.web")


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    url: str
    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSignIn:
    """A started sign-in, taken by its callback: whose it is and how to finish it."""

    user_id: int
    state: str
    redirect_uri: str
    code_verifier: str


def configured(settings: Settings) -> bool:
    return bool(settings.gmail_client_id) and settings.gmail_client_secret is not None


def ensure_configured(settings: Settings) -> None:
    """`ConnectionProblem` 409, saying what to set, when Gmail is not set up."""
    _client_config(settings)


def _client_config(settings: Settings) -> dict[str, Any]:
    if not configured(settings):
        raise ConnectionProblem(
            409, "gmail_not_configured",
            "Gmail is not set up on this server: set FLUFFYMAIL_GMAIL_CLIENT_ID and "
            "FLUFFYMAIL_GMAIL_CLIENT_SECRET (a Google Cloud OAuth client)",
        )  # fmt: skip
    assert settings.gmail_client_secret is not None
    return {
        "web": {
            "client_id": settings.gmail_client_id,
            "client_secret": settings.gmail_client_secret.get_secret_value(),
            "auth_uri": settings.gmail_auth_uri,
            "token_uri": settings.gmail_token_uri,
        }
    }


async def _run(
    pool: AsyncConnectionPool, query: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[query], params)  # type: ignore[index]
        return await cur.fetchone() if cur.description else None


def _flow(settings: Settings, redirect_uri: str, state: str, verifier: str | None = None) -> Flow:
    """The library's flow; without `verifier` it makes a random PKCE one (S256 challenge)."""
    return Flow.from_client_config(
        _client_config(settings), scopes=list(OAUTH_SCOPES), redirect_uri=redirect_uri,
        state=state, code_verifier=verifier, autogenerate_code_verifier=verifier is None,
    )  # fmt: skip


async def authorization(
    pool: AsyncConnectionPool,
    settings: Settings,
    session: Session,
    redirect_uri: str,
    *,
    login_hint: str | None = None,
) -> Authorization:
    """The URL to send the user to (offline access, consent shown so a refresh token comes);
    the sign-in is stored for `session`, which alone can complete it. `login_hint`: the
    address of a connection signing in again, which Google then picks in its account chooser."""
    ensure_configured(settings)
    state = random.token_urlsafe(32)
    flow = _flow(settings, redirect_uri, state)
    hint = {"login_hint": login_hint} if login_hint else {}
    url, _ = flow.authorization_url(
        access_type="offline", prompt="consent", include_granted_scopes="true", **hint
    )
    assert flow.code_verifier, "PKCE: the flow made no code verifier"
    await _run(
        pool, "insert_oauth_state",
        {"state_hash": token_hash(state), "session_hash": session.id,
         "user_id": session.account.id, "redirect_uri": redirect_uri,
         "code_verifier": flow.code_verifier},
    )  # fmt: skip
    return Authorization(url=url, state=state)


async def take_state(pool: AsyncConnectionPool, session: Session, state: str) -> PendingSignIn:
    """The pending sign-in `state` names, used up; `ConnectionProblem` 400 when it is unknown,
    another session's, already used or expired."""
    row = await _run(
        pool, "take_oauth_state",
        {"state_hash": token_hash(state), "session_hash": session.id,
         "max_age": STATE_MAX_AGE},
    )  # fmt: skip
    if row is None:
        raise ConnectionProblem(
            400, "oauth_bad_state", "the Google sign-in answer was not for this server; start again"
        )
    if not row["same_session"]:
        raise ConnectionProblem(
            400, "oauth_other_session",
            "this Google sign-in was started in another browser session; start it again here",
        )  # fmt: skip
    if row["used"]:
        raise ConnectionProblem(
            400, "oauth_state_used", "this Google sign-in was already used; start again"
        )
    if row["expired"] or row["user_id"] is None:
        raise ConnectionProblem(
            400, "oauth_state_expired", "the Google sign-in took too long; start again"
        )
    return PendingSignIn(
        user_id=row["user_id"], state=state, redirect_uri=row["redirect_uri"],
        code_verifier=row["code_verifier"],
    )  # fmt: skip


async def complete(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    settings: Settings,
    *,
    code: str,
    pending: PendingSignIn,
) -> Created:
    """Exchange the code, read the account's address, store the tokens and start syncing."""
    flow = _flow(settings, pending.redirect_uri, pending.state, pending.code_verifier)
    try:
        await asyncio.to_thread(_fetch_token, flow, code)
    except OAuth2Error as exc:
        detail = exc.description or exc.error
        raise ConnectionProblem(
            400, "oauth_refused", f"Google refused the sign-in: {detail}"
        ) from exc
    except OSError as exc:  # requests' connection errors are OSErrors
        raise ConnectionProblem(
            502, "google_unreachable", f"could not reach Google: {exc}"
        ) from exc
    token = _token(flow, settings)
    address = await _account_address(settings, token)
    box = secrets.SecretBox(secrets.load_key(settings))
    created = await save_connection(
        pool, queue, pending.user_id, kind=ConnectionKind.GMAIL, source=address,
        display_name=address, credentials=box.encrypt_json(gmail_credentials(token)),
    )  # fmt: skip
    log.info(
        "gmail connected",
        extra={"action": "web.gmail_connected", "connection_id": created.connection.id},
    )
    return created


def _fetch_token(flow: Flow, code: str) -> None:
    """Exchange the code (blocking). Google's consent screen lets the user untick a
    permission, and oauthlib then raises `Warning` (an exception, not a warning) rather than
    return a token whose scope differs from the one asked for: that token is what was
    granted, and `_granted` checks it."""
    try:
        flow.fetch_token(code=code)
    except Warning as exc:
        token = getattr(exc, "token", None)
        if token is None:
            raise
        flow.oauth2session.token = token


def _granted(flow: Flow) -> tuple[str, ...]:
    """The scopes Google granted (the token's `scope`; absent, all that were asked)."""
    scope = (flow.oauth2session.token or {}).get("scope")
    granted = scope.split() if isinstance(scope, str) else list(scope or OAUTH_SCOPES)
    return tuple(s for s in OAUTH_SCOPES if s in granted)


def _token(flow: Flow, settings: Settings) -> GmailToken:
    credentials = flow.credentials
    granted = _granted(flow)
    if not set(SCOPES) <= set(granted):  # the calendar is optional; the mail is not
        raise ConnectionProblem(
            400, "oauth_no_mail_access",
            "Google did not let FluffyMail read your mail: the permission to view your email "
            "was unticked. Connect Gmail again and leave it ticked (the calendar is optional).",
        )  # fmt: skip
    if not credentials.refresh_token:
        raise ConnectionProblem(
            400, "oauth_no_refresh_token",
            "Google gave no refresh token; remove FluffyMail's access in your Google account and connect again",
        )  # fmt: skip
    expiry = credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None
    assert settings.gmail_client_id and settings.gmail_client_secret is not None
    return GmailToken(
        refresh_token=credentials.refresh_token, client_id=settings.gmail_client_id,
        client_secret=settings.gmail_client_secret.get_secret_value(),
        access_token=credentials.token, expiry=expiry, scopes=granted,
    )  # fmt: skip


async def _account_address(settings: Settings, token: GmailToken) -> str:
    try:
        profile = await GmailSource(gmail_config(settings), token).profile()
    except AuthError as exc:
        raise ConnectionProblem(400, "gmail_refused", exc.reason) from exc
    except TransientSourceError as exc:
        raise ConnectionProblem(502, "gmail_unreachable", str(exc)) from exc
    except SourceError as exc:
        raise ConnectionProblem(502, "gmail_error", str(exc)) from exc
    address = str(profile.get("emailAddress", "")).strip().lower()
    if "@" not in address:
        raise ConnectionProblem(502, "gmail_error", "Gmail did not say which account this is")
    return address
