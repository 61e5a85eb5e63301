"""Webhook targets over HTTP: check a URL like any outbound connection (`net.resolve_public`:
no loopback, private or link-local address unless an administrator allows it) and POST to
the one address checked, so a DNS answer that changes between check and connect (rebinding)
cannot send the request elsewhere. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from fluffymail.config import Settings
from fluffymail.crm.webhooks.models import Result
from fluffymail.integrations import net

__all__ = ["PORTS", "TIMEOUT", "Target", "check", "origin", "policy", "post"]

PORTS = (80, 443)
TIMEOUT = 10.0  # seconds for the whole request: a slow receiver is a failed attempt
URL_MAX = 2000


class Target:
    """A parsed webhook URL: scheme, host, port and the path with its query."""

    def __init__(self, url: str) -> None:
        if len(url) > URL_MAX:
            raise net.OutboundRefused(f"the URL is longer than {URL_MAX} characters")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise net.OutboundRefused("that is not a valid URL") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise net.OutboundRefused("the URL must start with https:// (or http://) and a host")
        if parts.username or parts.password:
            raise net.OutboundRefused("put no user name or password in the URL")
        self.scheme = parts.scheme
        self.host = _host(parts.hostname)
        self.port = port if port is not None else (443 if parts.scheme == "https" else 80)
        self.path = urlunsplit(("", "", parts.path or "/", parts.query, ""))

    def url_for(self, address: net.Address) -> str:
        """The URL with the checked address in place of the host name."""
        ip = ipaddress.ip_address(address.ip)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _host(name: str) -> str:
    """The host name in ASCII (an international name in its IDNA form); refused when it is
    no name at all (control characters, or not encodable)."""
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise net.OutboundRefused("the URL's host is not a valid name") from exc
    if any(ord(c) < 33 or c in "%\\" for c in ascii_name):
        raise net.OutboundRefused("the URL's host is not a valid name")
    return ascii_name


def origin(url: str) -> str:
    """Where the URL goes, `scheme://host[:port]`, without the path and query that often carry
    the receiver's token (what a teammate who cannot manage webhooks is shown); "" when it is
    no webhook URL."""
    try:
        target = Target(url)
    except net.OutboundRefused:
        return ""
    return f"{target.scheme}://{target.host_header}"


def policy(settings: Settings) -> net.OutboundPolicy:
    """Ports 80 and 443 (and FLUFFYMAIL_OUTBOUND_PORTS); FLUFFYMAIL_OUTBOUND_ALLOW's networks."""
    return net.OutboundPolicy.from_settings(settings, ports=PORTS)


async def check(
    url: str, rules: net.OutboundPolicy, *, resolve: net.Resolve = socket.getaddrinfo
) -> net.Address:
    """Resolve and check the URL's host now (`OutboundRefused`, `Unreachable`)."""
    target = Target(url)
    return await _resolve(target, rules, resolve)


async def _resolve(target: Target, rules: net.OutboundPolicy, resolve: net.Resolve) -> net.Address:
    return await asyncio.to_thread(
        net.resolve_public, target.host, target.port, rules, resolve=resolve
    )


async def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    rules: net.OutboundPolicy,
    *,
    timeout: float = TIMEOUT,  # noqa: ASYNC109 - httpx applies it per phase
    resolve: net.Resolve = socket.getaddrinfo,
) -> Result:
    """One attempt: resolve and check the host again, POST to that address. Never raises for
    the receiver's faults: they come back as a `Result` with an error in a few words."""
    started = time.monotonic()
    try:
        target = Target(url)
        address = await _resolve(target, rules, resolve)
    except net.OutboundError as exc:
        return Result(status=None, duration_ms=_ms(started), error=exc.reason)
    request_headers = {**headers, "host": target.host_header}
    try:
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            response = await client.post(
                target.url_for(address),
                content=body,
                headers=request_headers,
                extensions={"sni_hostname": target.host},
            )
    except httpx.TimeoutException:
        return Result(status=None, duration_ms=_ms(started), error="timed out")
    except httpx.HTTPError as exc:
        return Result(status=None, duration_ms=_ms(started), error=_failure(exc))
    error = None if 200 <= response.status_code < 300 else _status_error(response)
    return Result(status=response.status_code, duration_ms=_ms(started), error=error)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _status_error(response: httpx.Response) -> str:
    if 300 <= response.status_code < 400:
        return "the receiver answered with a redirect (redirects are not followed)"
    return f"the receiver answered HTTP {response.status_code}"


def _failure(exc: httpx.HTTPError) -> str:
    """A transport error in a few words (never what the other side sent)."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None:  # the innermost socket error says most (refused, timed out)
        if isinstance(cause, OSError) and (
            cause.errno is not None or isinstance(cause, TimeoutError)
        ):
            return net.failure(cause)
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "certificate" in text or "ssl" in text:
            return "the TLS certificate was not accepted"
        return "could not connect"
    return "the connection failed"
