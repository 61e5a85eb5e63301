"""Connecting Gmail end to end against the emulator: authorize -> Google's consent (emulated)
-> callback -> an encrypted connection -> sync stores the mail and records the send-as aliases;
expired access tokens are refreshed and saved; a refused refresh marks `needs_reauth`. The
sign-in belongs to the browser session that started it (issue 15, finding 1)."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.integrations.mail.source import AuthError
from fluffymail.jobs import sync_calendar
from fluffymail.queue import JobQueue
from tests.integration.gmail.emulator import BOTH_SCOPES, CALENDAR_SCOPE, SCOPE, GmailEmulator
from tests.integration.web.conftest import User, csrf_from, login
from tests.integration.web.connections_support import (
    connection_settings,
    data_dir,  # noqa: F401  (fixture)
    run_sync,
    running_app,
    sample_message,
)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[GmailEmulator]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain HTTP
    server = GmailEmulator(email_address="owner@gmail.example").start()
    yield server
    server.stop()


@pytest.fixture
def settings(db_url: str, data_dir: Path, emulator: GmailEmulator) -> Settings:  # noqa: F811  (the imported fixture)
    return connection_settings(
        db_url, data_dir, gmail_client_id=emulator.client_id,
        gmail_client_secret=emulator.client_secret, gmail_auth_uri=emulator.auth_uri,
        gmail_token_uri=emulator.token_uri, gmail_api_endpoint=emulator.url,
        calendar_api_endpoint=emulator.url + "calendar/v3/",
    )  # fmt: skip


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async for pair in running_app(settings):
        yield pair


@pytest.fixture
def api(served: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return served[1]


async def _consent(browser: httpx.AsyncClient, emulator: GmailEmulator) -> str:
    """Authorize in a logged-in browser, then 'click Allow' on the emulated consent screen;
    the callback URL back."""
    response = await browser.get("/api/connections/gmail/authorize")
    assert response.status_code == 200, response.text
    url = response.json()["authorization_url"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(emulator.auth_uri + "?")
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [
        response.json()["state"]
    ]
    assert query["redirect_uri"] == ["http://test/api/connections/gmail/callback"]
    assert query["scope"] == [BOTH_SCOPES]  # mail and the calendar, read-only (issue 14)
    async with httpx.AsyncClient() as google:
        consent = await google.get(url, follow_redirects=False)
    assert consent.status_code == 302
    return consent.headers["location"]


async def _stored(pool: AsyncConnectionPool, settings: Settings, connection_id: int) -> dict:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT credentials FROM crm.connections WHERE id = %s", (connection_id,)
            )
        ).fetchone()
    assert row is not None
    return secrets.SecretBox(secrets.load_key(settings)).decrypt_json(bytes(row[0]))


async def _rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params or None)).fetchall()


async def test_connect_sync_aliases_refresh_and_revocation(
    api: httpx.AsyncClient,
    alice: User,
    emulator: GmailEmulator,
    pool: AsyncConnectionPool,
    settings: Settings,
    jobs: JobQueue,
) -> None:
    emulator.send_as.extend([
        {"sendAsEmail": "Owner.Work@Example.COM", "isPrimary": False, "verificationStatus": "accepted"},
        {"sendAsEmail": "not-yet@example.com", "isPrimary": False, "verificationStatus": "pending"},
    ])  # fmt: skip
    for n in range(7):
        emulator.add_message(sample_message(n, to="owner@gmail.example"))
    emulator.add_message(sample_message(99), labels=("SPAM",))

    await login(api, "alice@example.com")
    callback = await _consent(api, emulator)
    response = await api.get(callback)  # Google sends Alice's browser back
    assert response.status_code == 200, response.text
    body = response.json()
    connection = body["connection"]
    assert (connection["kind"], connection["source"], body["created"]) == (
        "gmail",
        "owner@gmail.example",
        True,
    )
    job = await jobs.get_job(body["job_id"])
    assert job is not None and job.name == "sync-emails"
    assert [s["key"] for s in await jobs.get_schedules()] == [f"connection-{connection['id']}"]
    [[raw]] = await _rows(
        pool, "SELECT credentials FROM crm.connections WHERE id = %s", connection["id"]
    )
    stored = await _stored(pool, settings, connection["id"])
    assert stored["refresh_token"] in emulator.refresh_tokens and stored["access_token"]
    assert stored["refresh_token"].encode() not in bytes(raw) and b"client-secret" not in bytes(raw)

    result = await run_sync(pool, settings, connection["id"])
    assert (result.seen, result.stored) == (7, 7)
    aliases = await _rows(
        pool,
        "SELECT address, source FROM crm.user_aliases WHERE user_id = %s ORDER BY 1",
        alice.account.id,
    )
    assert aliases == [("owner.work@example.com", "provider"), ("owner@gmail.example", "provider")]
    # the same grant reads the calendar (the job that sync sent, run inline), refreshing an
    # expired access token and keeping the new one
    emulator.expire_access_tokens()
    emulator.add_event(
        summary="Intro", start={"dateTime": "2026-11-02T10:00:00Z"},
        end={"dateTime": "2026-11-02T11:00:00Z"}, organizer={"email": "owner@gmail.example"},
        attendees=[{"email": "ann@example.org", "responseStatus": "accepted"}],
    )  # fmt: skip
    calendar = await sync_calendar.sync_calendar(
        pool=pool, queue=JobQueue(pool, listen=False), connection_id=connection["id"],
        clock=SystemClock(), settings=settings,
    )  # fmt: skip
    assert (calendar["status"], calendar["stored"]) == ("ok", 1)
    assert (await _stored(pool, settings, connection["id"]))[
        "access_token"
    ] in emulator.access_tokens
    shown = (await api.get(f"/api/connections/{connection['id']}", headers=alice.auth)).json()
    assert shown["calendar_synced_on"] and shown["calendar_error"] is None

    # an expired access token is refreshed through the token endpoint and the new one saved
    emulator.expire_access_tokens()
    emulator.add_message(sample_message(50))
    refreshes = emulator.refreshes
    assert (await run_sync(pool, settings, connection["id"])).stored == 1
    assert emulator.refreshes == refreshes + 1
    renewed = await _stored(pool, settings, connection["id"])
    assert (
        renewed["access_token"] != stored["access_token"]
        and renewed["access_token"] in emulator.access_tokens
    )

    # the user revokes access: the refresh is refused -> needs_reauth, with the reason
    emulator.revoke(stored["refresh_token"])
    with pytest.raises(AuthError):
        await run_sync(pool, settings, connection["id"])
    after = (await api.get(f"/api/connections/{connection['id']}", headers=alice.auth)).json()
    assert after["status"] == "needs_reauth" and "invalid_grant" in after["last_error"]

    # connecting again gives new tokens to the same connection and clears needs_reauth
    again = await api.get(await _consent(api, emulator))
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["connection"]["id"] == connection["id"]
    assert again.json()["connection"]["status"] == "ok"
    assert (await run_sync(pool, settings, connection["id"])).status == "ok"


async def test_callback_refusals(
    api: httpx.AsyncClient,
    alice: User,
    bob: User,
    emulator: GmailEmulator,
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    await login(api, "alice@example.com")
    callback = await _consent(api, emulator)
    bad = await api.get(callback.replace("state=", "state=x"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "oauth_bad_state"
    # a browser logged in as Bob cannot complete Alice's sign-in
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served[0]), base_url="http://test"
    ) as bobs_browser:
        await login(bobs_browser, "bob@example.com")
        other = await bobs_browser.get(callback)
    assert other.status_code == 400 and other.json()["error"]["code"] == "oauth_other_session"
    assert (await api.get(callback)).status_code == 200
    reused = await api.get(callback)  # a sign-in completes once
    assert reused.status_code == 400 and reused.json()["error"]["code"] == "oauth_state_used"
    emulator.consent = False
    denied = await api.get(await _consent(api, emulator))
    assert denied.status_code == 400 and denied.json()["error"]["code"] == "oauth_denied"
    browser = await api.get(await _consent(api, emulator), headers={"accept": "text/html"})
    assert (
        browser.status_code == 303
        and browser.headers["location"] == "/connections?gmail=oauth_denied"
    )
    assert [c["kind"] for c in (await api.get("/api/connections", headers=alice.auth)).json()] == [
        "gmail"
    ]
    assert (await api.get("/api/connections", headers=bob.auth)).json() == []


async def test_code_exchange_refused__400_with_googles_reason(
    api: httpx.AsyncClient, alice: User, emulator: GmailEmulator
) -> None:
    await login(api, "alice@example.com")
    callback = await _consent(api, emulator)
    emulator.codes.clear()  # the code expired at Google
    response = await api.get(callback)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "oauth_refused",
        "message": "Google refused the sign-in: Malformed auth code.",
    }
    assert (await api.get("/api/connections", headers=alice.auth)).json() == []


async def test_gmail_not_configured__409_with_what_to_set(
    db_url: str,
    data_dir: Path,  # noqa: F811  (the fixture imported above)
    alice: User,
) -> None:
    async for _, http in running_app(connection_settings(db_url, data_dir)):
        response = await http.get("/api/connections/gmail/authorize", headers=alice.auth)
        assert response.status_code == 409
        assert "FLUFFYMAIL_GMAIL_CLIENT_ID" in response.json()["error"]["message"]


async def _execute(pool: AsyncConnectionPool, query: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(query)


@contextlib.asynccontextmanager
async def _browser(
    served: tuple[FastAPI, httpx.AsyncClient], email: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (own cookie jar), logged in as `email` when given."""
    transport = httpx.ASGITransport(app=served[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as browser:
        if email:
            await login(browser, email)
        yield browser


async def test_a_victim_without_a_session_cannot_attach_their_mailbox_to_the_starter(
    served: tuple[FastAPI, httpx.AsyncClient],
    bob: User,
    emulator: GmailEmulator,
    pool: AsyncConnectionPool,
) -> None:
    """Issue 15 #1: Bob starts, sends the link; the victim (no FluffyMail session) approves."""
    async with _browser(served, "bob@example.com") as bobs_browser:
        callback = await _consent(bobs_browser, emulator)
    async with _browser(served) as victims_browser:
        page = await victims_browser.get(callback, headers={"accept": "text/html"})
        api = await victims_browser.get(callback)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/connections"
    assert api.status_code == 401 and api.json()["error"]["code"] == "not_authenticated"
    assert await _rows(pool, "SELECT id FROM crm.connections") == []
    assert len(emulator.codes) == 1  # the victim's code was never exchanged


async def test_the_same_user_in_another_session_cannot_complete_it(
    served: tuple[FastAPI, httpx.AsyncClient],
    alice: User,
    emulator: GmailEmulator,
    pool: AsyncConnectionPool,
) -> None:
    async with _browser(served, "alice@example.com") as first:
        callback = await _consent(first, emulator)
        async with _browser(served, "alice@example.com") as second:
            other = await second.get(callback)
        assert other.status_code == 400
        assert other.json()["error"]["code"] == "oauth_other_session"
        assert (await first.get(callback)).status_code == 200  # the starter still can, once
    assert len(await _rows(pool, "SELECT id FROM crm.connections")) == 1


async def test_authorize__needs_a_browser_session_not_an_api_token(
    api: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    response = await api.get("/api/connections/gmail/authorize", headers=alice.auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "oauth_needs_session"
    assert await _rows(pool, "SELECT 1 FROM crm.oauth_states") == []


async def test_sign_in__kept_server_side_with_a_random_pkce_verifier_and_short_life(
    api: httpx.AsyncClient,
    alice: User,
    emulator: GmailEmulator,
    pool: AsyncConnectionPool,
) -> None:
    await login(api, "alice@example.com")
    callback = await _consent(api, emulator)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    [[verifier, user_id]] = await _rows(pool, "SELECT code_verifier, user_id FROM crm.oauth_states")
    assert user_id == alice.account.id and 43 <= len(verifier) <= 128
    [grant] = emulator.codes.values()
    assert grant.method == "S256" and grant.challenge != verifier
    second = await _consent(api, emulator)
    assert await _rows(pool, "SELECT count(DISTINCT code_verifier) FROM crm.oauth_states") == [(2,)]

    await _execute(pool, "UPDATE crm.oauth_states SET created_on = now() - interval '11 minutes'")
    expired = await api.get(callback)
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == "oauth_state_expired"
    assert state not in expired.text
    # logging out drops the session's pending sign-ins
    await _execute(pool, "UPDATE crm.oauth_states SET created_on = now()")
    await api.post("/logout", data={"csrf_token": csrf_from((await api.get("/contacts")).text)})
    assert await _rows(pool, "SELECT 1 FROM crm.oauth_states") == []
    await login(api, "alice@example.com")
    gone = await api.get(second)
    assert gone.status_code == 400 and gone.json()["error"]["code"] == "oauth_bad_state"
    assert (await api.get("/api/connections")).json() == []


async def test_pkce__google_refuses_a_verifier_that_did_not_make_the_challenge(
    api: httpx.AsyncClient, alice: User, emulator: GmailEmulator, pool: AsyncConnectionPool
) -> None:
    await login(api, "alice@example.com")
    callback = await _consent(api, emulator)
    await _execute(pool, "UPDATE crm.oauth_states SET code_verifier = repeat('x', 64)")
    response = await api.get(callback)
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"] == "Google refused the sign-in: Invalid code verifier."
    )


async def test_consent_with_the_calendar_unticked__mail_connects_and_the_calendar_says_why(
    api: httpx.AsyncClient,
    alice: User,
    emulator: GmailEmulator,
    pool: AsyncConnectionPool,
    settings: Settings,
) -> None:
    """Google's consent screen lets the user untick a permission: oauthlib refused the
    narrower token ('Scope has changed'), which was a 500 and no connection."""
    emulator.add_message(sample_message(1, to="owner@gmail.example"))
    emulator.unticked = {CALENDAR_SCOPE}
    await login(api, "alice@example.com")
    response = await api.get(await _consent(api, emulator))
    assert response.status_code == 200, response.text
    connection_id = response.json()["connection"]["id"]
    assert (await _stored(pool, settings, connection_id))["scopes"] == [SCOPE]  # as granted
    assert (await run_sync(pool, settings, connection_id)).stored == 1
    calendar = await sync_calendar.sync_calendar(
        pool=pool, queue=JobQueue(pool, listen=False), connection_id=connection_id,
        clock=SystemClock(), settings=settings,
    )  # fmt: skip
    assert calendar["status"] == "no_calendar_access"
    shown = (await api.get(f"/api/connections/{connection_id}")).json()
    assert shown["status"] == "ok" and shown["calendar_error"] == sync_calendar.NO_SCOPE


async def test_consent_with_the_mail_unticked__nothing_connected_and_the_reason_given(
    api: httpx.AsyncClient, alice: User, emulator: GmailEmulator, pool: AsyncConnectionPool
) -> None:
    emulator.unticked = {SCOPE}
    await login(api, "alice@example.com")
    callback = await _consent(api, emulator)
    response = await api.get(callback)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "oauth_no_mail_access" and "leave it ticked" in error["message"]
    assert await _rows(pool, "SELECT id FROM crm.connections") == []


def _flash(page: httpx.Response) -> str:
    """The page's notice, as one line of text."""
    match = re.search(r'<p class="alert alert-(?:ok|error)"[^>]*>(.*?)</p>', page.text, re.S)
    assert match, page.text[:2000]
    return " ".join(html.unescape(match[1]).split())


async def test_coming_back_from_google__the_page_says_what_happened_in_words(
    served: tuple[FastAPI, httpx.AsyncClient],
    alice: User,
    emulator: GmailEmulator,
    pool: AsyncConnectionPool,
    settings: Settings,
) -> None:
    """Each failure said "Connecting Gmail failed (oauth_refused). Please try again." (also
    when trying again cannot help), and signing in as another account than the one waiting
    for a sign-in said "Gmail connected. The first sync has started"."""
    async with _browser(served, "alice@example.com") as browser:

        async def come_back(callback: str) -> httpx.Response:
            back = await browser.get(callback, headers={"accept": "text/html"})
            assert back.status_code == 303, back.text
            return await browser.get(back.headers["location"])

        new = await come_back(await _consent(browser, emulator))
        assert _flash(new) == (
            "Gmail connected: owner@gmail.example. The first sync has started; progress"
            " shows below."
        )
        [first] = (await browser.get("/api/connections")).json()
        emulator.revoke((await _stored(pool, settings, first["id"]))["refresh_token"])
        with pytest.raises(AuthError):
            await run_sync(pool, settings, first["id"])
        page = await browser.get("/connections")
        again = f'href="/connections/gmail/connect?account={first["id"]}"'
        assert again in page.text  # "Connect again" names the account to Google
        connect = await browser.get(f"/connections/gmail/connect?account={first['id']}")
        assert "login_hint=owner%40gmail.example" in connect.headers["location"]

        emulator.email_address = "second@gmail.example"  # the wrong account chosen at Google
        other = await come_back(await _consent(browser, emulator))
        assert _flash(other) == (
            "Gmail connected: second@gmail.example. The first sync has started; progress shows"
            " below. Still waiting for a sign-in: owner@gmail.example. Use its Connect again"
            " button and choose that account at Google."
        )
        emulator.email_address = "owner@gmail.example"
        signed_in = await come_back(await _consent(browser, emulator))
        assert _flash(signed_in) == (
            "owner@gmail.example is signed in again; it syncs now and every 15 minutes."
        )

        callback = await _consent(browser, emulator)
        emulator.codes.clear()  # the code expired at Google: trying again helps
        assert "Use Connect Gmail to try again." in _flash(await come_back(callback))
        emulator.unticked = {SCOPE}
        unticked = _flash(await come_back(await _consent(browser, emulator)))
        assert "permission to read your mail was unticked" in unticked
        for junk in ("connection=99999999999999999999", "connection=%C2%B2", "reconnect=%C2%B2"):
            assert (await browser.get(f"/connections?gmail=connected&{junk}")).status_code == 200
        forged = await browser.get("/connections?gmail=connected&connection=999")
        assert (
            _flash(forged) == "Gmail connected. The first sync has started; progress shows below."
        )
