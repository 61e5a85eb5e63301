"""What every web response carries for the browser's protection: a Content-Security-Policy with
a per-request nonce (templates see it as `csp_nonce`), no framing, no MIME sniffing, no
cross-origin referrer; and the Host check, so a forged `Host` never reaches an absolute URL."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluffymail.config import Settings
from fluffymail.errors import ConfigError

# Health probes come from platforms by IP address, and their answers hold no URL.
UNCHECKED_HOST_PATHS = frozenset({"/healthz", "/readyz"})


def content_security_policy(nonce: str) -> str:
    """Only this origin's scripts, styles, fetches and forms, plus `<script|style nonce>`;
    `data:` images (Swagger UI's icons); never inside a frame."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        )
    )


class SecurityHeaders:
    """ASGI middleware: a fresh nonce in `scope["state"]["csp_nonce"]` for the templates, and
    the security headers on every HTTP response (a header the route set itself is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", content_security_policy(nonce))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def template_context(request: Request) -> dict[str, Any]:
    """A Jinja2Templates context processor: `csp_nonce` for `<script nonce="...">`."""
    return {"csp_nonce": getattr(request.state, "csp_nonce", "")}


class HostsNotConfigured(ConfigError):
    """Set FLUFFYMAIL_ALLOWED_HOSTS to the host names this server answers (comma-separated,
    e.g. crm.example.com): outside development, requests with any other Host are refused."""


def allowed_hosts(settings: Settings) -> list[str]:
    """The configured host names; in development any host when none are configured."""
    if hosts := settings.allowed_host_list:
        return hosts
    if settings.is_development:
        return ["*"]
    raise HostsNotConfigured()


class TrustedHosts:
    """Starlette's TrustedHostMiddleware (400 for a `Host` not allowed), except on the health
    probes."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in UNCHECKED_HOST_PATHS:
            await self.app(scope, receive, send)
        else:
            await self.checked(scope, receive, send)
