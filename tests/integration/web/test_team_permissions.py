"""What a workspace member (not an owner) may change and read: the workspace's shared tags
(used, never renamed, recoloured or deleted), webhooks (seen, their URL cut to its scheme and
host), invites, the workspace's name, a teammate's shared list, connections and their
contact policy; refused with a 403 and the reason, and not offered on the member's pages."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, csrf_from, login
from tests.integration.web.contact_seed import seed_crm

HTML = {"accept": "text/html"}
HOOK = "https://93.184.216.34/hooks/T01/B02/s3cr3t?token=abc123"  # a public address: no DNS
ORIGIN = "https://93.184.216.34"


async def _team(client: httpx.AsyncClient, owner: User, member: User) -> None:
    """`member` joins `owner`'s workspace through an invite link."""
    invite = await client.post("/api/team/invites", json={"role": "member"}, headers=owner.auth)
    joined = await client.post(
        "/api/team/join", json={"token": invite.json()["token"]}, headers=member.auth
    )
    assert joined.status_code == 200 and joined.json()["workspace"]["role"] == "member"


def _refused(answer: httpx.Response, what: str) -> None:
    assert answer.status_code == 403, (what, answer.status_code, answer.text)
    assert "Only an owner of" in answer.json()["error"]["message"], answer.text


async def test_a_member_uses_the_shared_tags_and_cannot_rename_recolour_or_delete_them(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    """A tag is the workspace's: renaming it renames every teammate's saved views too."""
    alices = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    tag = (await client.post("/api/tags", json={"name": "Investors"}, headers=alice.auth)).json()
    await client.put(f"/api/contacts/{alices.contacts['ada']}/tags/{tag['id']}", headers=alice.auth)
    view = await client.post(
        "/api/lists", json={"name": "Backers", "filter": "tag:Investors"}, headers=alice.auth
    )
    await _team(client, alice, bob)

    for method, body in (("PATCH", {"name": "Gone"}), ("PATCH", {"colour": "red"})):
        _refused(
            await client.request(method, f"/api/tags/{tag['id']}", json=body, headers=bob.auth),
            str(body),
        )
    _refused(await client.delete(f"/api/tags/{tag['id']}", headers=bob.auth), "delete")
    [kept] = (await client.get("/api/tags", headers=alice.auth)).json()
    assert (kept["name"], kept["colour"]) == ("Investors", tag["colour"])
    saved = (await client.get(f"/api/lists/{view.json()['id']}", headers=alice.auth)).json()
    assert saved["filter"] == "tag:Investors"  # Alice's view untouched

    # Using the tags stays open to every teammate: new ones, and on their own contacts.
    mine = await client.post("/api/tags", json={"name": "Press"}, headers=bob.auth)
    assert mine.status_code == 201, mine.text
    on = await client.put(
        f"/api/contacts/{bobs.contacts['ada']}/tags/{tag['id']}", headers=bob.auth
    )
    assert on.status_code == 200 and [t["name"] for t in on.json()] == ["Investors"]
    off = await client.delete(
        f"/api/contacts/{bobs.contacts['ada']}/tags/{tag['id']}", headers=bob.auth
    )
    assert off.status_code == 200 and off.json() == []
    # An owner still manages them.
    renamed = await client.patch(
        f"/api/tags/{tag['id']}", json={"name": "Angels"}, headers=alice.auth
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Angels"


async def test_a_members_contacts_page_offers_no_tag_management(
    client: httpx.AsyncClient, make_client, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    await seed_crm(pool, bob.account.id, domain="bob.test")
    tag = (await client.post("/api/tags", json={"name": "Investors"}, headers=alice.auth)).json()
    await _team(client, alice, bob)
    browser = make_client()
    await login(browser, "bob@example.com")
    page = await browser.get("/contacts", headers=HTML)
    assert page.status_code == 200 and "Investors" in page.text
    assert f'action="/tags/{tag["id"]}/edit"' not in page.text
    assert f'action="/tags/{tag["id"]}/delete"' not in page.text
    assert "Only an owner of" in page.text  # says why
    csrf = csrf_from(page.text)
    for path, form in (
        (f"/tags/{tag['id']}/edit", {"name": "Gone", "csrf_token": csrf}),
        (f"/tags/{tag['id']}/delete", {"csrf_token": csrf}),
    ):
        refused = await browser.post(path, data=form, headers=HTML)
        assert refused.status_code == 403 and "Only an owner of" in refused.text, path
    owners = make_client()
    await login(owners, "alice@example.com")
    page = await owners.get("/contacts", headers=HTML)
    assert f'action="/tags/{tag["id"]}/edit"' in page.text


async def test_a_member_sees_a_webhooks_scheme_and_host_never_its_path_or_token(
    client: httpx.AsyncClient, alice: User, bob: User
) -> None:
    """A webhook URL often carries its receiver's secret (a Slack-style path, `?token=`):
    members, who cannot manage webhooks, see only where it goes."""
    made = await client.post(
        "/api/webhooks", json={"url": HOOK, "events": ["sync.failed"]}, headers=alice.auth
    )
    assert made.status_code == 201, made.text
    webhook_id = made.json()["id"]
    await _team(client, alice, bob)

    listed = await client.get("/api/webhooks", headers=bob.auth)
    one = await client.get(f"/api/webhooks/{webhook_id}", headers=bob.auth)
    for answer in (listed, one):
        assert answer.status_code == 200
        assert "s3cr3t" not in answer.text and "abc123" not in answer.text, answer.text
    assert listed.json()[0]["url"] == one.json()["url"] == ORIGIN
    assert one.json()["url_redacted"] is True
    sent = await client.post(f"/api/webhooks/{webhook_id}/test", headers=bob.auth)
    assert sent.status_code == 202 and "s3cr3t" not in sent.text  # still allowed
    log = await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=bob.auth)
    assert log.status_code == 200 and "s3cr3t" not in log.text
    owners = (await client.get(f"/api/webhooks/{webhook_id}", headers=alice.auth)).json()
    assert owners["url"] == HOOK and owners["url_redacted"] is False


async def test_a_members_webhook_pages_hide_the_url_and_the_owner_forms(
    client: httpx.AsyncClient, make_client, alice: User, bob: User
) -> None:
    made = await client.post(
        "/api/webhooks",
        json={"url": HOOK, "events": ["sync.failed"], "description": "Sales tool"},
        headers=alice.auth,
    )
    webhook_id = made.json()["id"]
    await _team(client, alice, bob)
    browser = make_client()
    await login(browser, "bob@example.com")
    listed = await browser.get("/webhooks", headers=HTML)
    detail = await browser.get(f"/webhooks/{webhook_id}", headers=HTML)
    for page in (listed, detail):
        assert page.status_code == 200 and "Sales tool" in page.text
        assert "s3cr3t" not in page.text and "abc123" not in page.text
        assert "Only an owner of" in page.text  # says why the forms are missing
    assert 'action="/webhooks"' not in listed.text  # no "New webhook" form
    for action in ("edit", "secret", "delete"):
        assert f'action="/webhooks/{webhook_id}/{action}"' not in detail.text, action
    assert f'action="/webhooks/{webhook_id}/test"' in detail.text  # a member may test
    csrf = csrf_from(detail.text)
    for path in (f"/webhooks/{webhook_id}/secret", f"/webhooks/{webhook_id}/delete"):
        refused = await browser.post(path, data={"csrf_token": csrf}, headers=HTML)
        assert refused.status_code == 403 and "Only an owner of" in refused.text, path
    owners = make_client()
    await login(owners, "alice@example.com")
    page = await owners.get(f"/webhooks/{webhook_id}", headers=HTML)
    assert "s3cr3t" in page.text and f'action="/webhooks/{webhook_id}/edit"' in page.text


async def test_a_member_cannot_rename_the_workspace_or_revoke_invites(
    client: httpx.AsyncClient, alice: User, bob: User
) -> None:
    await _team(client, alice, bob)
    pending = await client.post("/api/team/invites", json={"note": "Sam"}, headers=alice.auth)
    invite_id = pending.json()["id"]
    _refused(await client.patch("/api/team", json={"name": "Bob's"}, headers=bob.auth), "rename")
    _refused(await client.delete(f"/api/team/invites/{invite_id}", headers=bob.auth), "revoke")
    seen = (await client.get("/api/team", headers=bob.auth)).json()
    assert seen["invites"] == [] and seen["workspace"]["name"] != "Bob's"
    kept = (await client.get("/api/team", headers=alice.auth)).json()
    assert [i["id"] for i in kept["invites"]] == [invite_id]


async def test_a_member_cannot_change_a_teammates_shared_view(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    await _team(client, alice, bob)
    shared = await client.post(
        "/api/lists",
        json={"name": "Strong", "filter": "level:strong", "shared": True},
        headers=alice.auth,
    )
    list_id = shared.json()["id"]
    assert (await client.get(f"/api/lists/{list_id}", headers=bob.auth)).status_code == 200
    for method, body in (("PATCH", {"filter": "level:weak"}), ("DELETE", None)):
        answer = await client.request(method, f"/api/lists/{list_id}", json=body, headers=bob.auth)
        assert answer.status_code == 403, (method, answer.text)
    kept = (await client.get(f"/api/lists/{list_id}", headers=alice.auth)).json()
    assert kept["filter"] == "level:strong"


async def test_a_teammates_connections_and_their_contact_policy_are_not_found(
    client: httpx.AsyncClient, alice: User, bob: User, make_connection
) -> None:
    """Connections (and so their policy, people and mail) stay per user inside a team."""
    connection_id = await make_connection(alice, name="Alice's mail")
    await _team(client, alice, bob)
    assert (await client.get("/api/connections", headers=bob.auth)).json() == []
    base = f"/api/connections/{connection_id}"
    for method, path, body in (
        ("GET", base, None),
        ("PATCH", base, {"contact_policy": "sent_and_received"}),
        ("GET", f"{base}/people", None),
        ("POST", f"{base}/sync", None),
        ("POST", f"{base}/pause", None),
        ("DELETE", base, None),
    ):
        answer = await client.request(method, path, json=body, headers=bob.auth)
        assert answer.status_code == 404, (method, path, answer.text)
    mine = (await client.get(base, headers=alice.auth)).json()
    assert mine["contact_policy"] == "sent" and mine["paused_on"] is None
