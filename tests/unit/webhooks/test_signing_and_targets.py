"""Standard Webhooks signatures (checked against the reference library's output), the JSON
sent, the retry schedule's length, and webhook targets checked like any outbound connection,
again at delivery (a DNS answer that turns private is refused without connecting)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import pytest

from fluffymail.config import Settings
from fluffymail.crm.webhooks import signing
from fluffymail.integrations import net, webhook_http
from fluffymail.jobs import deliver_webhook
from tests.webhook_receiver import Received, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LIDOtu"
BODY = (
    '{"type":"contact.created","timestamp":"2026-12-06T09:00:00Z",'
    '"data":{"contact_id":7,"name":"Zoë"}}'
).encode()
# standardwebhooks 1.3.0 (the reference Python library):
# Webhook(SECRET).sign("msg_42", datetime.fromtimestamp(1796547600, UTC), BODY.decode())
REFERENCE = "v1,P/Eq+qJSVQbkm1Vod0jbgJX6VPMupCrv5nQXxpCPVmY="


def test_sign__matches_the_reference_library() -> None:
    assert signing.sign(SECRET, "msg_42", 1796547600, BODY) == REFERENCE


def test_headers__verify_from_the_spec_and_change_with_the_timestamp() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(secret) > 30
    first = signing.headers(secret, "msg_1", 1000, BODY)
    assert verify(secret, Received(headers=first, body=BODY))
    assert not verify(signing.new_secret(), Received(headers=first, body=BODY))
    assert not verify(secret, Received(headers=first, body=BODY + b" "))
    later = signing.headers(secret, "msg_1", 1001, BODY)
    assert (
        later["webhook-id"] == "msg_1" and later["webhook-signature"] != first["webhook-signature"]
    )


def test_body__type_timestamp_data() -> None:
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    sent = signing.body("contact.created", at, {"contact_id": 7, "name": "Zoë"})
    assert sent == BODY


def test_retries__last_at_least_ten_minutes_before_the_dead_letter() -> None:
    options = deliver_webhook.QUEUE_OPTIONS
    delays = [
        min(options["retry_delay"] * 2**n, options["retry_delay_max"]) * 0.5  # jitter's low end
        for n in range(options["retry_limit"])
    ]
    assert sum(delays) >= 600
    assert options["group_concurrency"] == 1 and options["dead_letter"]


def _answers(*ips: str) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    return resolve


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "https://"),
        ("https://user:pw@example.com/x", "user name"),
        ("https://example.com:8443/x", "port 8443"),
        ("http://127.0.0.1/x", "private network"),
        ("http://10.1.2.3/x", "private network"),
        ("http://169.254.169.254/latest", "private network"),
        ("http://[::1]/x", "private network"),
        ("http://[fe80::1]/x", "private network"),
    ],
)
async def test_check__refuses_like_any_outbound_connection(url: str, why: str) -> None:
    rules = webhook_http.policy(Settings())
    with pytest.raises(net.OutboundRefused, match=why):
        await webhook_http.check(url, rules, resolve=_answers(url.split("/")[2].strip("[]")))


async def test_check__an_admin_allows_a_private_network_and_a_port() -> None:
    rules = webhook_http.policy(Settings(outbound_allow="10.0.0.0/8", outbound_ports="8080"))
    found = await webhook_http.check("http://hooks.lan:8080/x", rules, resolve=_answers("10.1.2.3"))
    assert (found.ip, found.port) == ("10.1.2.3", 8080)


async def test_post__a_name_that_turns_private_is_refused_at_delivery() -> None:
    rules = webhook_http.policy(Settings())
    url = "https://hooks.example.com/x"
    assert (await webhook_http.check(url, rules, resolve=_answers("93.184.216.34"))).ip
    result = await webhook_http.post(url, b"{}", {}, rules, resolve=_answers("127.0.0.1"))
    assert result.status is None and not result.ok
    assert "private network" in (result.error or "")


def test_target__keeps_path_query_and_host_header() -> None:
    target = webhook_http.Target("https://Hooks.Example.com:443/in?x=1")
    address = net.Address(host=target.host, ip="93.184.216.34", port=443)
    assert target.url_for(address) == "https://93.184.216.34:443/in?x=1"
    assert target.host_header == "hooks.example.com"
    v6 = webhook_http.Target("http://[2001:db8::1]:8080/")
    assert v6.url_for(net.Address(host=v6.host, ip="2001:db8::1", port=8080)).startswith(
        "http://[2001:db8::1]:8080/"
    )
    assert v6.host_header == "[2001:db8::1]:8080"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T01/B02/s3cr3t", "https://hooks.slack.com"),
        ("https://Hooks.Example.com:443/in?token=abc", "https://hooks.example.com"),
        ("http://example.com:8080/x#frag", "http://example.com:8080"),
        ("http://[2001:db8::1]/hook?key=1", "http://[2001:db8::1]"),
        ("not a url", ""),
    ],
)
def test_origin__scheme_and_host_without_the_path_or_query(url: str, shown: str) -> None:
    """What a member is shown of a webhook's URL: never the path or query (the token)."""
    assert webhook_http.origin(url) == shown
