"""The outbound guard: one resolution, private addresses and other ports refused unless an
administrator allows them, failures in the user's terms."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from fluffymail.config import Settings
from fluffymail.integrations import net

IMAP = frozenset({993, 143})
DEFAULT = net.OutboundPolicy(ports=IMAP)


def answers(*ips: str) -> net.Resolve:
    """A resolver that returns these addresses for any name, and counts its calls."""

    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        resolve.calls += 1  # type: ignore[attr-defined]
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[ipaddress.ip_address(ip).version], socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in ips
        ]

    resolve.calls = 0  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::",  # loopback, unspecified
        "10.1.2.3", "172.16.0.1", "192.168.1.1", "fc00::1",  # private
        "169.254.169.254", "fe80::1",  # link-local (cloud metadata)
        "100.64.0.1",  # shared address space (carrier NAT)
        "224.0.0.1", "ff02::1",  # multicast
        "240.0.0.1", "255.255.255.255",  # reserved, broadcast
        "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::",  # IPv4 inside IPv6
    ],
)  # fmt: skip
def test_private_and_special_addresses_are_refused(ip: str) -> None:
    with pytest.raises(net.OutboundRefused) as refused:
        net.resolve_public("imap.example.com", 993, DEFAULT, resolve=answers(ip))
    assert refused.value.reason == (
        "imap.example.com is on a private network; an administrator can allow it with "
        "FLUFFYMAIL_OUTBOUND_ALLOW"
    )
    assert ip not in refused.value.reason  # the answer of an internal name is not told


def test_a_public_address_is_resolved_once_and_pinned() -> None:
    resolve = answers("93.184.216.34")
    address = net.resolve_public("imap.example.com", 993, DEFAULT, resolve=resolve)
    assert address == net.Address(host="imap.example.com", ip="93.184.216.34", port=993)
    assert resolve.calls == 1  # type: ignore[attr-defined]


def test_of_mixed_answers_only_an_allowed_one_is_used() -> None:
    address = net.resolve_public(
        "imap.example.com", 143, DEFAULT, resolve=answers("10.0.0.5", "2606:2800:220:1::1")
    )
    assert address.ip == "2606:2800:220:1::1"


def test_other_ports_are_refused_before_any_lookup() -> None:
    resolve = answers("93.184.216.34")
    with pytest.raises(net.OutboundRefused) as refused:
        net.resolve_public("imap.example.com", 22, DEFAULT, resolve=resolve)
    assert refused.value.reason == (
        "port 22 is not allowed (use 143 or 993); "
        "an administrator can allow more ports with FLUFFYMAIL_OUTBOUND_PORTS"
    )
    assert resolve.calls == 0  # type: ignore[attr-defined]


def test_an_administrator_allows_networks_hosts_and_ports() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        outbound_allow="10.0.0.0/8, mail.lan, 127.0.0.1",
        outbound_ports="1143",
    )
    policy = net.OutboundPolicy.from_settings(settings, ports=IMAP)
    assert policy.ports == {993, 143, 1143}
    lan = net.resolve_public("imap.corp", 1143, policy, resolve=answers("10.20.30.40"))
    assert lan.ip == "10.20.30.40"
    by_name = net.resolve_public("Mail.LAN", 993, policy, resolve=answers("192.168.0.7"))
    assert by_name.ip == "192.168.0.7"
    assert net.resolve_public("127.0.0.1", 993, policy, resolve=answers("127.0.0.1"))
    with pytest.raises(net.OutboundRefused):  # what is not listed stays refused
        net.resolve_public("imap.corp", 993, policy, resolve=answers("192.168.0.7"))


def test_no_such_host_is_said_plainly() -> None:
    def fails(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(net.Unreachable) as unreachable:
        net.resolve_public("imap.invalid", 993, DEFAULT, resolve=fails)
    assert unreachable.value.reason == "could not reach imap.invalid on port 993 (no such host)"


def test_open_socket_connects_to_the_checked_address_and_says_why_not() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        # the name does not resolve anywhere: only the checked address is used
        address = net.Address(host="imap.does-not-resolve.invalid", ip="127.0.0.1", port=port)
        with net.open_socket(address, timeout=5) as sock:
            assert sock.getpeername() == ("127.0.0.1", port)
    with pytest.raises(net.Unreachable) as refused:
        net.open_socket(address, timeout=5)  # the listener is closed now
    assert refused.value.reason == (
        f"could not reach imap.does-not-resolve.invalid on port {port} (connection refused)"
    )
