"""Logins: the CSRF-protected form, the session cookie, logout, and API tokens."""

from __future__ import annotations

import httpx

from tests.integration.web.conftest import PASSWORD, User, csrf_from, login, session_csrf


async def test_login__sets_an_httponly_lax_session_cookie(
    client: httpx.AsyncClient, alice: User
) -> None:
    response = await login(client, "alice@example.com")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "fm_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": alice.account.id,
        "email": "alice@example.com",
        "name": "",
        "is_admin": False,
    }


async def test_login__without_the_form_token_is_refused(
    client: httpx.AsyncClient, alice: User
) -> None:
    await client.get("/login")
    response = await client.post(
        "/login", data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert (await client.get("/api/me")).status_code == 401


async def test_login__wrong_password_shows_the_form_again(
    client: httpx.AsyncClient, alice: User
) -> None:
    response = await login(client, "alice@example.com", "wrong password")
    assert response.status_code == 401
    assert "do not match" in response.text
    assert "fm_session" not in response.headers.get("set-cookie", "")


async def test_login__unknown_email_is_refused_the_same_way(client: httpx.AsyncClient) -> None:
    response = await login(client, "nobody@example.com")
    assert response.status_code == 401
    assert "do not match" in response.text


async def test_login__next_never_leaves_the_site(client: httpx.AsyncClient, alice: User) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": "alice@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/"


async def test_pages__redirect_to_login_when_logged_out(client: httpx.AsyncClient) -> None:
    response = await client.get("/connections", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/connections"


async def test_cookie_post__needs_the_session_csrf_token(
    client: httpx.AsyncClient, alice: User, make_connection
) -> None:
    connection_id = await make_connection(alice)
    await login(client, "alice@example.com")
    refused = await client.post(f"/api/connections/{connection_id}/sync")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    token = session_csrf((await client.get("/connections")).text)
    accepted = await client.post(
        f"/api/connections/{connection_id}/sync", headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 202


async def test_logout__needs_csrf_then_ends_the_session(
    client: httpx.AsyncClient, alice: User
) -> None:
    await login(client, "alice@example.com")
    assert (await client.post("/logout", data={"csrf_token": "nope"})).status_code == 403
    page = await client.get("/connections")
    response = await client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await client.get("/api/me")).status_code == 401


async def test_api_token__authenticates_without_csrf(
    client: httpx.AsyncClient, alice: User
) -> None:
    response = await client.get("/api/me", headers=alice.auth)
    assert response.status_code == 200 and response.json()["email"] == "alice@example.com"


async def test_api_token__unknown_or_missing_is_401(client: httpx.AsyncClient) -> None:
    bad = await client.get("/api/me", headers={"Authorization": "Bearer fm_nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "not_authenticated"
    none = await client.get("/api/me")
    assert none.status_code == 401 and set(none.json()) == {"error"}


async def test_cookie_upload_without_csrf__refused_and_its_files_closed(
    client: httpx.AsyncClient, alice: User
) -> None:
    await login(client, "alice@example.com")
    mbox = b"From a@example.com Thu Jan  1 00:00:00 2026\nSubject: hi\n\nhello\n"
    refused = await client.post("/api/connections/upload", files={"file": ("x.mbox", mbox * 5000)})
    assert refused.status_code == 403  # an unclosed spooled file would fail the test as a warning
    assert refused.json()["error"]["code"] == "csrf_failed"


async def test_cookie_upload_with_the_token_in_the_form__its_files_closed(
    client: httpx.AsyncClient, alice: User
) -> None:
    await login(client, "alice@example.com")
    token = session_csrf((await client.get("/connections")).text)
    mbox = b"From a@example.com Thu Jan  1 00:00:00 2026\nSubject: hi\n\nhello\n"
    response = await client.post(
        "/api/connections/upload",
        data={"csrf_token": token},
        files={"file": ("x.mbox", mbox * 5000)},
    )
    assert response.status_code == 400  # uploads want the header: their body streams to disk
    assert "X-CSRF-Token" in response.json()["error"]["message"]
