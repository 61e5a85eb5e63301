"""Password changes end the user's other sessions; API tokens expire, are listed and revoked
(page, API, CLI) (issue 15, finding 8)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from fluffymail.cli import app as cli_app
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from tests.integration.web.conftest import (
    PASSWORD,
    User,
    csrf_from,
    login,
    session_csrf,
    web_settings,
)

NEW_PASSWORD = "a much better passphrase"


async def _execute(pool: AsyncConnectionPool, query: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(query)


async def test_api_password_change__ends_other_sessions_keeps_this_one(
    make_client: Callable[[], httpx.AsyncClient], alice: User, bob: User
) -> None:
    here, elsewhere, bobs = make_client(), make_client(), make_client()
    for browser, email in ((here, "alice@example.com"), (elsewhere, "alice@example.com"),
                           (bobs, "bob@example.com")):  # fmt: skip
        assert (await login(browser, email)).status_code == 303
    token = session_csrf((await here.get("/connections")).text)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = await here.post("/api/me/password", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 204, response.text
    assert (await here.get("/api/me")).status_code == 200
    assert (await elsewhere.get("/api/me")).status_code == 401
    assert (await bobs.get("/api/me")).status_code == 200  # other users are untouched
    fresh = make_client()
    assert (await login(fresh, "alice@example.com")).status_code == 401
    assert (await login(fresh, "alice@example.com", NEW_PASSWORD)).status_code == 303


async def test_api_password_change__refusals(
    client: httpx.AsyncClient,
    alice: User,
    make_client: Callable[[], httpx.AsyncClient],
    pool: AsyncConnectionPool,
) -> None:
    other = make_client()
    await login(other, "alice@example.com")
    wrong = {"current_password": "not it", "new_password": NEW_PASSWORD}
    response = await client.post("/api/me/password", json=wrong, headers=alice.auth)
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_password"
    short = {"current_password": PASSWORD, "new_password": "short"}
    assert (
        await client.post("/api/me/password", json=short, headers=alice.auth)
    ).status_code == 422
    assert (await other.get("/api/me")).status_code == 200  # nothing changed
    for _ in range(4):  # wrong current passwords count like failed logins
        await client.post("/api/me/password", json=wrong, headers=alice.auth)
    throttled = await client.post("/api/me/password", json=wrong, headers=alice.auth)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    # with a token (no session to keep) a change ends every session
    await _execute(pool, "DELETE FROM crm.login_throttle")  # the wait is over
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (
        await client.post("/api/me/password", json=right, headers=alice.auth)
    ).status_code == 204
    assert (await other.get("/api/me")).status_code == 401


async def test_page_password_change__csrf_checked_then_other_sessions_end(
    make_client: Callable[[], httpx.AsyncClient], alice: User
) -> None:
    here, elsewhere = make_client(), make_client()
    await login(here, "alice@example.com")
    await login(elsewhere, "alice@example.com")
    page = await here.get("/account")
    assert page.status_code == 200 and "Change your password" in page.text
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    forged = await here.post("/account/password", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    wrong = await here.post(
        "/account/password",
        data={**form, "current_password": "nope", "csrf_token": csrf_from(page.text)},
    )
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    done = await here.post("/account/password", data={**form, "csrf_token": csrf_from(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password"
    assert (await here.get("/api/me")).status_code == 200
    assert (await elsewhere.get("/api/me")).status_code == 401


async def test_cli_password_reset__ends_every_session(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await login(client, "alice@example.com")
    await accounts.create_user(pool, "alice@example.com", NEW_PASSWORD)  # `users create` again
    assert (await client.get("/api/me")).status_code == 401


async def test_tokens__expire(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    token = await accounts.create_api_token(
        pool, alice.account.id, "ci", lifetime=timedelta(days=30)
    )
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/me", headers=bearer)).status_code == 200
    await _execute(pool, "UPDATE crm.api_tokens SET expires_on = now() WHERE name = 'ci'")
    expired = await client.get("/api/me", headers=bearer)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "not_authenticated"
    listed = {t["name"]: t for t in (await client.get("/api/me/tokens", headers=alice.auth)).json()}
    assert listed["ci"]["expired"] is True and listed["ci"]["expires_on"]
    assert listed["tests"]["expires_on"] is None and listed["tests"]["last_used_on"]
    assert set(listed["ci"]) == {
        "id", "name", "created_on", "last_used_on", "expires_on", "expired",
    }  # fmt: skip


async def test_tokens__revoked_through_the_api_answer_401(
    client: httpx.AsyncClient, alice: User, bob: User
) -> None:
    [mine] = (await client.get("/api/me/tokens", headers=alice.auth)).json()
    assert (
        await client.delete(f"/api/me/tokens/{mine['id']}", headers=bob.auth)
    ).status_code == 404
    assert (await client.get("/api/me", headers=alice.auth)).status_code == 200
    [bobs] = (await client.get("/api/me/tokens", headers=bob.auth)).json()
    assert (
        await client.delete(f"/api/me/tokens/{bobs['id']}", headers=bob.auth)
    ).status_code == 204
    assert (await client.get("/api/me", headers=bob.auth)).status_code == 401


async def test_tokens__listed_and_revoked_on_the_page(
    client: httpx.AsyncClient, alice: User
) -> None:
    await login(client, "alice@example.com")
    page = await client.get("/account")
    assert "tests" in page.text and "Revoke" in page.text
    [mine] = (await client.get("/api/me/tokens")).json()
    refused = await client.post(f"/account/tokens/{mine['id']}/revoke", data={})
    assert refused.status_code == 403
    revoked = await client.post(
        f"/account/tokens/{mine['id']}/revoke", data={"csrf_token": csrf_from(page.text)}
    )
    assert revoked.status_code == 303
    assert (await client.get("/api/me", headers=alice.auth)).status_code == 401
    assert "No API tokens" in (await client.get("/account")).text


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FLUFFYMAIL_LOG_LEVEL", "ERROR")
    yield CliRunner()


def _invoke(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(cli_app, list(args), input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return result.output


def _me_status(db_url: str, data_dir: Path, token: str) -> int:
    async def main() -> int:
        web = create_app(web_settings(db_url, data_dir))
        async with web.router.lifespan_context(web):
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                response = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
                return response.status_code

    return asyncio.run(main())


def test_cli_tokens__issue_with_expiry_list_and_revoke(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    _invoke(cli, "users", "create", "carol@example.com")
    token = _invoke(cli, "users", "token", "carol@example.com", "--name", "backup",
                    "--expires-days", "7").strip()  # fmt: skip
    assert token.startswith("fm_")
    assert _me_status(db_url, tmp_path, token) == 200
    [line] = _invoke(cli, "users", "tokens", "carol@example.com").splitlines()
    token_id, name = line.split("\t")[:2]
    assert name == "backup" and "expires 20" in line and "last used 20" in line
    assert _invoke(cli, "users", "token", "--revoke", token_id).strip() == (
        f"token {token_id} (backup) revoked"
    )
    assert _me_status(db_url, tmp_path, token) == 401
    again = cli.invoke(cli_app, ["users", "token", "--revoke", token_id])
    assert again.exit_code != 0 and f"no API token with id {token_id}" in again.output
    both = cli.invoke(cli_app, ["users", "token", "carol@example.com", "--revoke", token_id])
    assert both.exit_code != 0
