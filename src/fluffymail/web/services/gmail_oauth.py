"""Connecting Gmail with OAuth 2.0 (google-auth-oauthlib's Flow): the authorisation URL and
the callback that exchanges the code, stores the tokens encrypted and creates the connection.

The `state` is signed (itsdangerous, keyed by the credentials key) and names the user who
asked, the callback URL and a nonce; it expires after `STATE_MAX_AGE`. The PKCE code verifier
is derived from that nonce with the same key, so nothing is kept between the two requests and
the verifier itself never leaves the server (only its S256 challenge does).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets as random
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from google_auth_oauthlib.flow import Flow
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.integrations.mail.gmail import SCOPES, GmailSource, GmailToken
from fluffymail.integrations.mail.source import AuthError, SourceError, TransientSourceError
from fluffymail.jobs.sync_emails import gmail_config, gmail_credentials
from fluffymail.queue import JobQueue
from fluffymail.web.services.connections import ConnectionProblem, Created, save_connection

__all__ = ["STATE_MAX_AGE", "Authorization", "authorization", "complete", "configured"]

STATE_MAX_AGE = 15 * 60
_SALT = "fluffymail.gmail-oauth"
log = logging.getLogger("fluffymail.web")


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    url: str
    state: str


def configured(settings: Settings) -> bool:
    return bool(settings.gmail_client_id) and settings.gmail_client_secret is not None


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


def _serializer(key: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=_SALT)


def _verifier(key: bytes, nonce: str) -> str:
    """The PKCE code verifier for this nonce (43 URL-safe characters)."""
    digest = hmac.new(key, b"pkce:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _flow(settings: Settings, redirect_uri: str, verifier: str, state: str | None = None) -> Flow:
    return Flow.from_client_config(
        _client_config(settings), scopes=list(SCOPES), redirect_uri=redirect_uri,
        code_verifier=verifier, state=state,
    )  # fmt: skip


def authorization(settings: Settings, user_id: int, redirect_uri: str) -> Authorization:
    """The URL to send the user to (offline access, consent shown so a refresh token comes)."""
    _client_config(settings)  # refuse early when Gmail is not set up
    key = secrets.load_key(settings)
    nonce = random.token_urlsafe(16)
    state = _serializer(key).dumps({"u": user_id, "n": nonce, "r": redirect_uri})
    flow = _flow(settings, redirect_uri, _verifier(key, nonce), state)
    url, _ = flow.authorization_url(
        access_type="offline", prompt="consent", include_granted_scopes="true"
    )
    return Authorization(url=url, state=state)


def read_state(settings: Settings, state: str) -> dict[str, Any]:
    """The signed state's content; `ConnectionProblem` 400 when forged or expired."""
    try:
        data = _serializer(secrets.load_key(settings)).loads(state, max_age=STATE_MAX_AGE)
    except SignatureExpired as exc:
        raise ConnectionProblem(
            400, "oauth_state_expired", "the Google sign-in took too long; start again"
        ) from exc
    except BadSignature as exc:
        raise ConnectionProblem(
            400, "oauth_bad_state", "the Google sign-in answer was not for this server; start again"
        ) from exc
    if not isinstance(data, dict) or not {"u", "n", "r"} <= set(data):
        raise ConnectionProblem(400, "oauth_bad_state", "the Google sign-in answer is malformed")
    return data


async def complete(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    settings: Settings,
    *,
    code: str,
    state: dict[str, Any],
    raw_state: str,
) -> Created:
    """Exchange the code, read the account's address, store the tokens and start syncing."""
    key = secrets.load_key(settings)
    flow = _flow(settings, str(state["r"]), _verifier(key, str(state["n"])), raw_state)
    try:
        await asyncio.to_thread(flow.fetch_token, code=code)
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
    box = secrets.SecretBox(key)
    created = await save_connection(
        pool, queue, int(state["u"]), kind=ConnectionKind.GMAIL, source=address,
        display_name=address, credentials=box.encrypt_json(gmail_credentials(token)),
    )  # fmt: skip
    log.info(
        "gmail connected",
        extra={"action": "web.gmail_connected", "connection_id": created.connection.id},
    )
    return created


def _token(flow: Flow, settings: Settings) -> GmailToken:
    credentials = flow.credentials
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
        access_token=credentials.token, expiry=expiry,
        scopes=tuple(credentials.scopes or SCOPES),
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
