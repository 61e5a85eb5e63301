"""Outbound connections made on a user's behalf: which hosts and ports they may reach.

`resolve_public` resolves a host once and returns the one address to connect to, refusing
loopback, private, link-local, multicast and reserved addresses (unless an administrator
allows them) and ports outside the allowed set. The caller connects to that address only,
so a second DNS answer cannot point the connection somewhere else. Errors carry a reason
in the user's terms and never what the other side sent.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fluffymail.config import Settings, parse_outbound_allow
from fluffymail.errors import FluffyMailError

__all__ = [
    "CONNECT_TIMEOUT",
    "Address",
    "OutboundError",
    "OutboundPolicy",
    "OutboundRefused",
    "Unreachable",
    "open_socket",
    "resolve_public",
]

CONNECT_TIMEOUT = 10.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolve = Callable[..., list[tuple[Any, ...]]]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundError(FluffyMailError):
    """The connection was not made; `reason` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutboundRefused(OutboundError):
    """This server does not connect there (a private address or a port not allowed)."""


class Unreachable(OutboundError):
    """The host could not be reached: no such host, refused, timed out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """Where to connect: the checked `ip`, and the `host` as given (TLS verifies that name)."""

    host: str
    ip: str
    port: int

    @property
    def where(self) -> str:
        return f"{self.host} on port {self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundPolicy:
    """The ports outbound connections may use, and the networks and host names an
    administrator allows although they are not public."""

    ports: frozenset[int]
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, *, ports: Iterable[int]) -> OutboundPolicy:
        """The policy for one kind of connection: its standard `ports` plus the settings'."""
        networks, hosts = parse_outbound_allow(settings.outbound_allow)
        extra = frozenset(settings.outbound_port_numbers)
        return cls(ports=frozenset(ports) | extra, networks=networks, hosts=hosts)

    def allows(self, host: str, ip: IPAddress) -> bool:
        if host.casefold().rstrip(".") in self.hosts or any(ip in net for net in self.networks):
            return True
        return _public(ip)


def resolve_public(
    host: str, port: int, policy: OutboundPolicy, *, resolve: Resolve = socket.getaddrinfo
) -> Address:
    """The first address of `host` that `policy` allows, resolved once.

    Raises:
        OutboundRefused: the port is not allowed, or every address is on a private network.
        Unreachable: the name does not resolve.
    """
    if port not in policy.ports:
        allowed = " or ".join(str(p) for p in sorted(policy.ports))
        raise OutboundRefused(
            f"port {port} is not allowed (use {allowed}); "
            "an administrator can allow more ports with FLUFFYMAIL_OUTBOUND_PORTS"
        )
    try:
        answers = resolve(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"could not reach {host} on port {port} (no such host)") from exc
    addresses = [_ip(answer[4][0]) for answer in answers]
    for ip in addresses:
        if policy.allows(host, ip):
            return Address(host=host.strip("[]"), ip=str(ip), port=port)
    if not addresses:
        raise Unreachable(f"could not reach {host} on port {port} (no such host)")
    raise OutboundRefused(
        f"{host} is on a private network; an administrator can allow it with "
        "FLUFFYMAIL_OUTBOUND_ALLOW"
    )


def open_socket(address: Address, timeout: float = CONNECT_TIMEOUT) -> socket.socket:
    """A TCP connection to the checked address (never to a fresh lookup of its name).

    Raises:
        Unreachable: refused, timed out or no route, said in the user's terms.
    """
    try:
        return socket.create_connection((address.ip, address.port), timeout=timeout)
    except OSError as exc:
        raise Unreachable(f"could not reach {address.where} ({failure(exc)})") from exc


def failure(exc: OSError) -> str:
    """A socket error in a few words (never the remote side's text)."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "the connection was closed"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "no route to the host"
    return "the connection failed"


def _ip(text: str) -> IPAddress:
    ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _public(ip: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, multicast...
    (an IPv4 address inside a NAT64 or 6to4 one must be public too)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64:
            return _public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            return _public(ip.sixtofour)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)
