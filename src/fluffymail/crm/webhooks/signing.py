"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets `whsec_<base64>`,
and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh signing secret, shown to the user once."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt (a fresh timestamp each time, so a fresh signature)."""
    return {
        "content-type": "application/json",
        "user-agent": "FluffyMail-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def body(kind: str, event_on: datetime, payload: dict[str, Any]) -> bytes:
    """The JSON sent: `{"type", "timestamp", "data"}`, the same bytes on every attempt."""
    stamp = event_on.astimezone(UTC).isoformat().replace("+00:00", "Z")
    document = {"type": kind, "timestamp": stamp, "data": payload}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
