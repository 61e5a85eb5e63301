"""Teammates: invite links (one-time, expiring, stored as a hash), joining through the API or
the invite page (logged in, or with a new account), owner-only actions refused with a reason,
the last owner kept, shared workspace data, warm intros through a teammate and never a
teammate's mail; and idempotency keys on creates."""

from __future__ import annotations

import asyncio

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import PASSWORD, User, csrf_from, login
from tests.integration.web.contact_seed import seed_crm


async def _invite(client: httpx.AsyncClient, owner: User, role: str = "member") -> dict:
    made = await client.post("/api/team/invites", json={"role": role}, headers=owner.auth)
    assert made.status_code == 201, made.text
    return made.json()


async def test_invite_join_roles_and_remove(
    client: httpx.AsyncClient, alice: User, bob: User, make_user, pool: AsyncConnectionPool
) -> None:
    tag = await client.post("/api/tags", json={"name": "Investors"}, headers=alice.auth)
    team = (await client.get("/api/team", headers=alice.auth)).json()
    assert team["workspace"]["role"] == "owner"
    assert [m["email"] for m in team["members"]] == ["alice@example.com"]
    invite = await _invite(client, alice)
    assert invite["created_by_email"] == "alice@example.com"
    assert invite["url"].endswith(f"/invite/{invite['token']}")
    async with pool.connection() as conn:  # only a hash is kept
        row = await (await conn.execute("SELECT token_hash FROM crm.workspace_invites")).fetchone()
    assert row is not None and invite["token"].encode() not in bytes(row[0])

    joined = await client.post("/api/team/join", json={"token": invite["token"]}, headers=bob.auth)
    assert joined.status_code == 200, joined.text
    assert joined.json()["joined"] and joined.json()["workspace"]["role"] == "member"
    carol = await make_user("carol@example.com")
    again = await client.post("/api/team/join", json={"token": invite["token"]}, headers=carol.auth)
    assert again.status_code == 410 and "already been used" in again.json()["error"]["message"]

    seen = (await client.get("/api/team", headers=bob.auth)).json()
    assert seen["workspace"]["id"] == team["workspace"]["id"] and seen["invites"] == []
    assert {m["email"] for m in seen["members"]} == {"alice@example.com", "bob@example.com"}
    assert [t["id"] for t in (await client.get("/api/tags", headers=bob.auth)).json()] == [
        tag.json()["id"]
    ]  # the workspace's shared tags
    refused = await client.post("/api/team/invites", json={}, headers=bob.auth)
    assert refused.status_code == 403 and "Only an owner" in refused.json()["error"]["message"]
    alice_id, bob_id = alice.account.id, bob.account.id
    kick = await client.delete(f"/api/team/members/{alice_id}", headers=bob.auth)
    assert kick.status_code == 403
    promote = await client.patch(
        f"/api/team/members/{bob_id}", json={"role": "owner"}, headers=bob.auth
    )
    assert promote.status_code == 403
    last = await client.delete(f"/api/team/members/{alice_id}", headers=alice.auth)
    assert last.status_code == 409 and "last owner" in last.json()["error"]["message"]
    demote = await client.patch(
        f"/api/team/members/{alice_id}", json={"role": "member"}, headers=alice.auth
    )
    assert demote.status_code == 409

    removed = await client.delete(f"/api/team/members/{bob_id}", headers=alice.auth)
    assert removed.status_code == 204
    back = (await client.get("/api/team", headers=bob.auth)).json()
    assert back["workspace"]["id"] != team["workspace"]["id"]  # his own again
    assert back["workspace"]["role"] == "owner"


async def test_invite_page_expired_unknown_and_signup(
    client: httpx.AsyncClient, make_client, alice: User, pool: AsyncConnectionPool
) -> None:
    html = {"accept": "text/html"}
    expired = await _invite(client, alice)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.workspace_invites SET created_on = now() - interval '8 days',"
            " expires_on = now() - interval '1 day' WHERE id = %s",
            (expired["id"],),
        )
    page = await client.get(f"/invite/{expired['token']}", headers=html)
    assert page.status_code == 410 and "has expired" in page.text
    unknown = await client.get("/invite/not-a-real-token", headers=html)
    assert unknown.status_code == 404 and "invite link" in unknown.text

    invite = await _invite(client, alice, role="owner")
    browser = make_client()
    page = await browser.get(f"/invite/{invite['token']}", headers=html)
    assert page.status_code == 200 and "Make my account and join" in page.text
    form = {"csrf_token": csrf_from(page.text), "name": "Dan", "password": PASSWORD}
    taken = await browser.post(
        f"/invite/{invite['token']}/signup", data={**form, "email": "alice@example.com"}
    )
    assert taken.status_code == 400 and "log in" in taken.text
    page = await browser.get(f"/invite/{invite['token']}", headers=html)
    form["csrf_token"] = csrf_from(page.text)
    made = await browser.post(
        f"/invite/{invite['token']}/signup", data={**form, "email": "dan@example.com"}
    )
    assert made.status_code == 303 and made.headers["location"] == "/team?done=joined"
    team = await browser.get("/team", headers=html)
    assert "alice@example.com" in team.text and "Create invite link" in team.text  # an owner


async def test_invite_sign_up__asking_which_addresses_have_accounts_is_throttled(
    client: httpx.AsyncClient, make_client, alice: User
) -> None:
    """The sign-up answer tells whether an address has an account, so tries with one link
    are counted like logins: five, then 429 whatever the address."""
    invite = await _invite(client, alice)
    browser = make_client()
    page = await browser.get(f"/invite/{invite['token']}", headers={"accept": "text/html"})
    form = {"csrf_token": csrf_from(page.text), "name": "Eve", "password": PASSWORD}
    url = f"/invite/{invite['token']}/signup"
    tries = []
    for n in range(6):  # an address with an account, then ones without, in turn, with a
        email = "alice@example.com" if n % 2 == 0 else f"user{n}@example.com"  # bad password
        answer = await browser.post(url, data={**form, "email": email, "password": "short"})
        tries.append(answer.status_code)
        if 'name="csrf_token"' in answer.text:  # the page again, with a new token
            form["csrf_token"] = csrf_from(answer.text)
    assert tries == [400] * 5 + [429]
    later = await browser.post(url, data={**form, "email": "new@example.com"})
    assert later.status_code == 429 and "Too many tries with this link" in later.text


async def test_logged_in_join_and_member_pages(
    client: httpx.AsyncClient, make_client, alice: User, bob: User
) -> None:
    html = {"accept": "text/html"}
    invite = await _invite(client, alice)
    browser = make_client()
    await login(browser, "bob@example.com")
    page = await browser.get(f"/invite/{invite['token']}", headers=html)
    assert "Join as bob@example.com" in page.text
    joined = await browser.post(
        f"/invite/{invite['token']}", data={"csrf_token": csrf_from(page.text)}
    )
    assert joined.status_code == 303
    team = await browser.get("/team", headers=html)
    assert "Only an owner can invite" in team.text and "Create invite link" not in team.text
    refused = await browser.post(
        f"/team/members/{alice.account.id}/remove",
        data={"csrf_token": csrf_from(team.text)},
        headers=html,
    )
    assert refused.status_code == 403 and "Only an owner" in refused.text


async def test_a_teammate_sees_warm_intros_and_never_the_mail(
    client: httpx.AsyncClient, make_client, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    """Alice's mail (whatever her connections' privacy) is never shown to Bob, her teammate:
    not by message id, not in her contacts' timelines, summaries or pages; Bob's own contact
    with the same person shows the warm intro through Alice."""
    alices = await seed_crm(pool, alice.account.id)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.messages SET subject = 'PRIVATE ' || subject,"
            " body_text = 'PRIVATE body' WHERE user_id = %s",
            (alice.account.id,),
        )
    invite = await _invite(client, alice)
    await client.post("/api/team/join", json={"token": invite["token"]}, headers=bob.auth)
    for message_id in alices.messages.values():
        got = await client.get(f"/api/messages/{message_id}", headers=bob.auth)
        assert got.status_code == 404
    for contact_id in alices.contacts.values():
        for suffix in ("", "/timeline"):
            got = await client.get(f"/api/contacts/{contact_id}{suffix}", headers=bob.auth)
            assert got.status_code == 404
    grace = bobs.contacts["grace"]
    detail = await client.get(f"/api/contacts/{grace}", headers=bob.auth)
    assert detail.status_code == 200
    holders = {p["holder"]["email"] for p in detail.json()["paths_in"] or []}
    assert "alice@example.com" in holders, detail.json()  # Alice knows Grace too
    browser = make_client()
    await login(browser, "bob@example.com")
    pages = [f"/contacts/{grace}", "/contacts", f"/api/contacts/{grace}/timeline"]
    pages += [f"/messages/{m}" for m in alices.messages.values()]
    for path in pages:
        got = await browser.get(path, headers={"accept": "text/html"})
        assert "PRIVATE" not in got.text, path


async def test_idempotency_keys_on_creates(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    key = {"Idempotency-Key": "create-investors-1"}
    first = await client.post("/api/tags", json={"name": "Investors"}, headers=alice.auth | key)
    again = await client.post("/api/tags", json={"name": "Investors"}, headers=alice.auth | key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    other = await client.post("/api/tags", json={"name": "Advisors"}, headers=alice.auth | key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    elsewhere = await client.post(
        "/api/lists", json={"name": "Investors"}, headers=alice.auth | key
    )
    assert elsewhere.status_code == 422
    bobs = await client.post("/api/tags", json={"name": "Investors"}, headers=bob.auth | key)
    assert bobs.status_code == 201 and "idempotent-replayed" not in bobs.headers  # his own key
    # A first request that fails leaves the key free: fixed and retried, it runs.
    failing = {"Idempotency-Key": "contact-1"}
    bad = await client.post("/api/contacts", json={"address": "nope"}, headers=alice.auth | failing)
    assert bad.status_code == 400
    good = await client.post(
        "/api/contacts", json={"address": "new@acme.test"}, headers=alice.auth | failing
    )
    assert good.status_code == 201
    replay = await client.post(
        "/api/contacts", json={"address": "new@acme.test"}, headers=alice.auth | failing
    )
    assert replay.json() == good.json()
    async with pool.connection() as conn:
        tags = await (await conn.execute("SELECT count(*) FROM crm.tags")).fetchone()
        made = await (
            await conn.execute(
                "SELECT count(*) FROM crm.contacts WHERE primary_address = 'new@acme.test'"
            )
        ).fetchone()
    assert tags == (2,) and made == (1,)


async def test_idempotency_keys__an_invite_link_is_not_kept_readable(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    """The stored answer of an invite holds its link: it is kept encrypted, so a copy of the
    database gives away no link, and a retry still gets the link back."""
    key = alice.auth | {"Idempotency-Key": "invite-sam"}
    first = await client.post("/api/team/invites", json={"role": "member"}, headers=key)
    again = await client.post("/api/team/invites", json={"role": "member"}, headers=key)
    assert first.status_code == 201 and again.json() == first.json()
    token = first.json()["token"]
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT body FROM crm.idempotency_keys")).fetchall()
    assert rows and all(token.encode() not in bytes(body) for (body,) in rows)


async def test_idempotency_key_in_flight_expired_and_raced(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    seeded = await seed_crm(pool, alice.account.id)
    url = f"/api/contacts/{seeded.contacts['ada']}/notes"
    key = alice.auth | {"Idempotency-Key": "note-1"}
    first = await client.post(url, json={"body": "First"}, headers=key)
    assert first.status_code == 201
    async with pool.connection() as conn:  # as if the first request were still running
        await conn.execute("UPDATE crm.idempotency_keys SET status = NULL")
    running = await client.post(url, json={"body": "First"}, headers=key)
    assert running.status_code == 409
    assert running.json()["error"]["code"] == "idempotency_key_in_flight"
    async with pool.connection() as conn:  # a day later the key is free again
        await conn.execute(
            "UPDATE crm.idempotency_keys SET status = 201, created_on = now() - interval '25 hours'"
        )
    later = await client.post(url, json={"body": "Second"}, headers=key)
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]

    raced = alice.auth | {"Idempotency-Key": "tag-race"}
    answers = await asyncio.gather(
        *(client.post("/api/tags", json={"name": "Raced"}, headers=raced) for _ in range(5))
    )
    assert {a.status_code for a in answers} <= {201, 409} and answers[0].status_code in (201, 409)
    assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
    async with pool.connection() as conn:
        count = await (
            await conn.execute("SELECT count(*) FROM crm.tags WHERE name = 'Raced'")
        ).fetchone()
    assert count == (1,)


async def test_joining_and_leaving_keep_your_notes_and_activity(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool
) -> None:
    """Notes on your own contacts, and their activity, stay yours across workspaces."""
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    notes = f"/api/contacts/{bobs.contacts['ada']}/notes"
    before = await client.post(notes, json={"body": "Met at the fair"}, headers=bob.auth)
    invite = await _invite(client, alice)
    await client.post("/api/team/join", json={"token": invite["token"]}, headers=bob.auth)
    during = await client.post(notes, json={"body": "Sent the deck"}, headers=bob.auth)
    edited = await client.patch(
        f"/api/notes/{before.json()['id']}",
        json={"body": "Met at the spring fair"},
        headers=bob.auth,
    )
    assert edited.status_code == 200
    seen = [n["body"] for n in (await client.get(notes, headers=bob.auth)).json()]
    assert seen == ["Sent the deck", "Met at the spring fair"]
    await client.delete(f"/api/team/members/{bob.account.id}", headers=bob.auth)  # he leaves
    seen = [n["body"] for n in (await client.get(notes, headers=bob.auth)).json()]
    assert seen == ["Sent the deck", "Met at the spring fair"]
    log = (
        await client.get(f"/api/contacts/{bobs.contacts['ada']}/activity", headers=bob.auth)
    ).json()
    assert [e["action"] for e in log] == ["note.edited", "note.added", "note.added"]
    assert during.status_code == 201


async def test_names_with_control_characters_are_refused_before_the_database(
    client: httpx.AsyncClient, alice: User
) -> None:
    """A NUL (which PostgreSQL text cannot hold) or another control character anywhere in a
    workspace or tag name is a 422 naming the field, not the database's refusal (found by
    schemathesis: `\\S` in the pattern matched the NUL)."""
    for name in ("\x00Team", "Team\x00", "A\x1fB"):
        renamed = await client.patch("/api/team", json={"name": name}, headers=alice.auth)
        assert renamed.status_code == 422, renamed.text
        tagged = await client.post("/api/tags", json={"name": name}, headers=alice.auth)
        assert tagged.status_code == 422, tagged.text
    ok = await client.patch("/api/team", json={"name": " Ümlaut Team "}, headers=alice.auth)
    assert ok.status_code == 200, ok.text
