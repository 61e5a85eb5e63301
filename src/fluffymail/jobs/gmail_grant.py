"""A Gmail connection's OAuth grant: where Google is, the token from a connection's stored
record, and the record to store from a token (mail and calendar syncs share it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fluffymail.config import Settings
from fluffymail.integrations.mail.source import AuthError

if TYPE_CHECKING:
    from fluffymail.integrations.mail.gmail import GmailConfig, GmailToken

__all__ = ["gmail_config", "gmail_credentials", "gmail_token"]


def gmail_config(settings: Settings) -> GmailConfig:
    """Where the Gmail API and Google's token endpoint are, from settings."""
    from fluffymail.integrations.mail.gmail import GmailConfig

    return GmailConfig(api_endpoint=settings.gmail_api_endpoint, token_uri=settings.gmail_token_uri)


def gmail_token(stored: dict[str, Any], settings: Settings) -> GmailToken:
    """OAuth credentials from a connection's decrypted record and the app's client.

    Raises:
        AuthError: no refresh token stored, or no OAuth client configured to refresh with.
    """
    from fluffymail.integrations.mail.gmail import SCOPES, GmailToken

    if not stored.get("refresh_token"):
        raise AuthError(reason="no Gmail refresh token stored; reconnect the account")
    if not settings.gmail_client_id or settings.gmail_client_secret is None:
        raise AuthError(
            reason="Gmail is not configured: set FLUFFYMAIL_GMAIL_CLIENT_ID and _CLIENT_SECRET"
        )
    expiry = stored.get("expiry")
    return GmailToken(
        refresh_token=stored["refresh_token"],
        client_id=settings.gmail_client_id,
        client_secret=settings.gmail_client_secret.get_secret_value(),
        access_token=stored.get("access_token"),
        expiry=datetime.fromisoformat(expiry).astimezone(UTC) if expiry else None,
        scopes=tuple(stored.get("scopes") or SCOPES),
    )


def gmail_credentials(token: GmailToken) -> dict[str, Any]:
    """The JSON record stored (encrypted) for a Gmail connection: tokens, never the client."""
    return {
        "refresh_token": token.refresh_token,
        "access_token": token.access_token,
        "expiry": token.expiry.isoformat() if token.expiry else None,
        "scopes": list(token.scopes),
    }
