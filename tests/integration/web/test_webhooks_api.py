"""Webhooks through the API and the pages: create (the secret shown once), targets refused
like outbound connections, change, rotate, test event, the delivery log, resend, delete."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.integration.web.conftest import User, csrf_from, login

PUBLIC = "https://93.184.216.34/hook"  # a public address: no DNS; no worker runs here


async def test_api__create_list_change_rotate_log_resend_delete(
    client: httpx.AsyncClient, alice: User
) -> None:
    for url, why in (
        ("http://127.0.0.1/hook", "private network"),
        ("http://10.0.0.1/hook", "private network"),
        ("http://169.254.169.254/latest/meta-data", "private network"),
        ("https://93.184.216.34:8443/hook", "port 8443"),
        ("file:///etc/passwd", "https://"),
    ):
        refused = await client.post(
            "/api/webhooks", json={"url": url, "events": ["sync.failed"]}, headers=alice.auth
        )
        assert refused.status_code == 400, url
        assert why in refused.json()["error"]["message"]
    bad = await client.post(
        "/api/webhooks", json={"url": PUBLIC, "events": ["contact.deleted"]}, headers=alice.auth
    )
    assert bad.status_code == 422
    made = await client.post(
        "/api/webhooks",
        json={"url": PUBLIC, "events": ["sync.failed", "contact.created"], "description": "CRM"},
        headers=alice.auth,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    webhook_id, secret = body["id"], body["secret"]
    assert secret.startswith("whsec_")
    assert body["events"] == ["contact.created", "sync.failed"]  # canonical order
    listed = (await client.get("/api/webhooks", headers=alice.auth)).json()
    assert [w["id"] for w in listed] == [webhook_id] and "secret" not in listed[0]
    patched = await client.patch(
        f"/api/webhooks/{webhook_id}",
        json={"events": ["relationship.changed"], "enabled": False},
        headers=alice.auth,
    )
    assert patched.json()["events"] == ["relationship.changed"] and not patched.json()["enabled"]
    private = await client.patch(
        f"/api/webhooks/{webhook_id}", json={"url": "http://192.168.1.5/"}, headers=alice.auth
    )
    assert private.status_code == 400
    rotated = await client.post(f"/api/webhooks/{webhook_id}/secret", headers=alice.auth)
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != secret
    sent = await client.post(f"/api/webhooks/{webhook_id}/test", headers=alice.auth)
    assert sent.status_code == 202
    delivery = sent.json()
    assert (delivery["event_kind"], delivery["state"], delivery["log"]) == (
        "webhook.test",
        "pending",
        [],
    )
    log = (await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=alice.auth)).json()
    assert [d["id"] for d in log["items"]] == [delivery["id"]] and log["next_before"] is None
    again = await client.post(
        f"/api/webhooks/{webhook_id}/deliveries/{delivery['id']}/resend", headers=alice.auth
    )
    assert again.status_code == 202 and again.json()["resend_of"] == delivery["id"]
    one = await client.get(
        f"/api/webhooks/{webhook_id}/deliveries/{again.json()['id']}", headers=alice.auth
    )
    assert one.json()["event_id"] == delivery["event_id"]
    pending = await client.get(
        f"/api/webhooks/{webhook_id}/deliveries?status=pending&limit=1", headers=alice.auth
    )
    assert len(pending.json()["items"]) == 1 and pending.json()["next_before"] is not None
    assert (
        await client.delete(f"/api/webhooks/{webhook_id}", headers=alice.auth)
    ).status_code == 204
    gone = await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=alice.auth)
    assert gone.status_code == 404


async def test_pages__add_a_webhook_see_its_secret_once_and_its_log(
    app: FastAPI, make_client, alice: User
) -> None:
    browser = make_client()
    await login(browser, "alice@example.com")
    page = await browser.get("/webhooks")
    assert page.status_code == 200 and 'href="/webhooks"' in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "url": PUBLIC,
        "description": "Sales tool",
        "events": ["contact.created", "followup.due"],
    }
    made = await browser.post("/webhooks", data=form)
    assert made.status_code == 200 and "whsec_" in made.text and "not shown again" in made.text
    listed = await browser.get("/webhooks")
    assert "Sales tool" in listed.text
    webhook_id = int(listed.text.split('href="/webhooks/')[1].split('"')[0])
    detail = await browser.get(f"/webhooks/{webhook_id}")
    assert "whsec_" not in detail.text and "Nothing sent yet" in detail.text
    csrf = csrf_from(detail.text)
    tested = await browser.post(f"/webhooks/{webhook_id}/test", data={"csrf_token": csrf})
    assert tested.status_code == 303
    detail = await browser.get(f"/webhooks/{webhook_id}")
    assert "webhook.test" in detail.text and "Resend" in detail.text
    refused = await browser.post(
        f"/webhooks/{webhook_id}/edit",
        data={"csrf_token": csrf, "url": "http://127.0.0.1/", "events": ["sync.failed"]},
    )
    assert refused.status_code == 400 and "private network" in refused.text


async def test_api__teammates_see_the_webhooks_only_owners_change_them(
    client: httpx.AsyncClient, alice: User, bob: User
) -> None:
    made = await client.post(
        "/api/webhooks", json={"url": PUBLIC, "events": ["sync.failed"]}, headers=alice.auth
    )
    webhook_id = made.json()["id"]
    invite = (await client.post("/api/team/invites", json={}, headers=alice.auth)).json()
    joined = await client.post("/api/team/join", json={"token": invite["token"]}, headers=bob.auth)
    assert joined.status_code == 200
    seen = (await client.get("/api/webhooks", headers=bob.auth)).json()
    assert [w["id"] for w in seen] == [webhook_id]
    log = await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=bob.auth)
    assert log.status_code == 200
    for method, path, body in (
        ("POST", "/api/webhooks", {"url": PUBLIC, "events": ["sync.failed"]}),
        ("PATCH", f"/api/webhooks/{webhook_id}", {"enabled": False}),
        ("POST", f"/api/webhooks/{webhook_id}/secret", None),
        ("DELETE", f"/api/webhooks/{webhook_id}", None),
    ):
        refused = await client.request(method, path, json=body, headers=bob.auth)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "Only an owner" in refused.json()["error"]["message"]
    assert (await client.get(f"/api/webhooks/{webhook_id}", headers=alice.auth)).json()["enabled"]
