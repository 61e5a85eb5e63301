"""`imap.connect` connects to the address it checked, while TLS still verifies the host name
the user gave (SNI and certificate), and says a bad certificate in the user's terms."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from fluffymail.integrations import net
from fluffymail.integrations.mail import imap
from tests.integration.imap.tls_server import NAME, TlsImap


def _loopback(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


def _connect(host: str, port: int, cert: Path) -> Any:
    trust = ssl.create_default_context(cafile=str(cert))
    config = imap.ImapConfig(
        host=host, port=port, username="sam", password="pw", ssl_context=trust, timeout=10
    )
    policy = net.OutboundPolicy(ports=frozenset({port}), hosts=frozenset({host}))
    return imap.connect(config, policy, resolve=_loopback)


def test_tls_to_the_pinned_address_verifies_the_given_name(
    tls_server: tuple[TlsImap, Path],
) -> None:
    running, cert = tls_server
    client = _connect(NAME, running.port, cert)
    client.logout()
    assert running.server_names == [NAME]  # SNI carried the name, not the address


def test_a_certificate_for_another_name_is_refused(tls_server: tuple[TlsImap, Path]) -> None:
    running, cert = tls_server
    with pytest.raises(net.Unreachable) as refused:
        _connect("mail.other.test", running.port, cert)
    assert refused.value.reason.startswith(
        f"mail.other.test on port {running.port} did not prove it is mail.other.test ("
    )
    assert "Hostname mismatch" in refused.value.reason
