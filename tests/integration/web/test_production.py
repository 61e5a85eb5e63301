"""Production mode behind a TLS-terminating proxy: every cookie is Secure even when the app sees
plain http (security issue #15, finding 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from fluffymail.config import Settings
from fluffymail.web.app import create_app
from fluffymail.web.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.integration.web.conftest import PASSWORD, User, csrf_from, web_settings


def cookies(response: httpx.Response) -> dict[str, dict[str, str | bool]]:
    """Each Set-Cookie of the response as name -> its attributes (lower-case keys)."""
    found: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            found[name] = {key: value for key, value in morsel.items() if value}
    return found


async def log_in_over_http(app: FastAPI) -> tuple[httpx.Response, httpx.Response]:
    """The login page and the login POST, over plain http as a proxy forwards them. Cookies are
    passed by hand: a Secure cookie is rightly not sent back over http by the client."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = await http.get("/login")
        token = page.cookies[LOGIN_CSRF_COOKIE]
        http.cookies.clear()
        posted = await http.post(
            "/login",
            data={
                "email": "alice@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
                "next": "/",
            },
            headers={"cookie": f"{LOGIN_CSRF_COOKIE}={token}"},
        )
    return page, posted


@pytest.fixture
async def production_app(db_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        **web_settings(db_url, tmp_path).model_dump(
            exclude={"environment", "secret_key", "allowed_hosts"}
        ),
        environment="production",
        secret_key=Fernet.generate_key().decode(),
        allowed_hosts="test",
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_production__cookies_are_secure_even_over_http(
    production_app: FastAPI, alice: User
) -> None:
    page, posted = await log_in_over_http(production_app)
    assert posted.status_code == 303, posted.text
    login_csrf = cookies(page)[LOGIN_CSRF_COOKIE]
    session = cookies(posted)[SESSION_COOKIE]
    assert login_csrf["secure"] and login_csrf["httponly"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "lax"


async def test_development__cookies_follow_the_scheme(app: FastAPI, alice: User) -> None:
    page, posted = await log_in_over_http(app)
    assert posted.status_code == 303, posted.text
    assert "secure" not in cookies(page)[LOGIN_CSRF_COOKIE]
    assert "secure" not in cookies(posted)[SESSION_COOKIE]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as http:
        assert cookies(await http.get("/login"))[LOGIN_CSRF_COOKIE]["secure"]
