"""A security setting that does not fit the server's port is named, with the one to try: TLS
sent to a server that greets in plain text, STARTTLS asked of a server that does not offer it,
and plain text sent to a server waiting for TLS (it says nothing first)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from fluffymail.integrations import net
from fluffymail.integrations.mail import imap
from tests.integration.imap.conftest import Dovecot
from tests.integration.imap.tls_server import NAME, TlsImap


def _refusal(config: imap.ImapConfig, policy: net.OutboundPolicy, **options: Any) -> str:
    with pytest.raises(net.Unreachable) as refused:
        imap.connect(config, policy, **options)
    return refused.value.reason


def _on_dovecot(dovecot: Dovecot, **security: bool) -> imap.ImapConfig:
    return imap.ImapConfig(
        host=dovecot.host, port=dovecot.port, username="alice", password="pw", timeout=10,
        **security,
    )  # fmt: skip


def test_tls_to_a_plain_text_server__says_to_choose_starttls(dovecot: Dovecot) -> None:
    reason = _refusal(_on_dovecot(dovecot, ssl=True), dovecot.policy)
    assert reason == (
        f"could not set up TLS with {dovecot.host} on port {dovecot.port}: if it expects "
        "STARTTLS on this port, choose STARTTLS (usually port 143)"
    )


def test_starttls_not_offered__says_to_choose_ssl(dovecot: Dovecot) -> None:
    reason = _refusal(_on_dovecot(dovecot, ssl=False, starttls=True), dovecot.policy)
    assert reason == (
        f"{dovecot.host} on port {dovecot.port} does not offer STARTTLS: if it expects TLS "
        "from the start, choose SSL/TLS (usually port 993)"
    )


@pytest.mark.parametrize("starttls", [False, True], ids=["plain", "starttls"])
def test_plain_text_to_a_tls_server__says_to_choose_ssl(
    tls_server: tuple[TlsImap, Path], starttls: bool
) -> None:
    running, cert = tls_server
    config = imap.ImapConfig(
        host=NAME, port=running.port, username="sam", password="pw", ssl=False,
        starttls=starttls, ssl_context=ssl.create_default_context(cafile=str(cert)), timeout=1,
    )  # fmt: skip
    policy = net.OutboundPolicy(ports=frozenset({running.port}), hosts=frozenset({NAME}))
    reason = _refusal(config, policy, resolve=_loopback)
    assert reason == (
        f"{NAME} on port {running.port} did not answer like an IMAP server (timed out): if it "
        "expects TLS from the start, choose SSL/TLS (usually port 993)"
    )


def test_tls_that_fits__no_hint(tls_server: tuple[TlsImap, Path]) -> None:
    """A certificate problem is not a wrong setting: it says what it is, and nothing more."""
    running, cert = tls_server
    config = imap.ImapConfig(
        host="mail.other.test", port=running.port, username="sam", password="pw",
        ssl_context=ssl.create_default_context(cafile=str(cert)), timeout=10,
    )  # fmt: skip
    policy = net.OutboundPolicy(
        ports=frozenset({running.port}), hosts=frozenset({"mail.other.test"})
    )
    reason = _refusal(config, policy, resolve=_loopback)
    assert "did not prove it is mail.other.test" in reason and "choose" not in reason


def _loopback(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
