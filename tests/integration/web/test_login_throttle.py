"""Login throttling (issue 15, finding 3): failures per account and per client address lead to
429 with Retry-After and growing waits, the same for known and unknown accounts, and argon2
runs off the event loop."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services import accounts, login_throttle
from tests.integration.web.conftest import PASSWORD, User, csrf_from, login

FREE = login_throttle.ACCOUNT.free


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser at another client address than the default client's."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _answer(response: httpx.Response) -> tuple[int, str | None, str]:
    """What a login answer tells: status, Retry-After and the error shown."""
    match = re.search(r'role="alert">([^<]*)<', response.text)
    return response.status_code, response.headers.get("retry-after"), match[1] if match else ""


async def _execute(pool: AsyncConnectionPool, query: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(query)


async def test_wrong_passwords__429_with_retry_after_after_five(
    client: httpx.AsyncClient, alice: User
) -> None:
    answers = [_answer(await login(client, "alice@example.com", "guess")) for _ in range(30)]
    assert [status for status, _, _ in answers] == [401] * FREE + [429] * (30 - FREE)
    _, retry_after, message = answers[-1]
    assert retry_after is not None and 0 < int(retry_after) <= 30
    assert message == f"Too many failed logins. Try again in {retry_after} seconds."
    # while locked even the right password is refused, unchecked
    right = await login(client, "alice@example.com")
    assert right.status_code == 429 and "fm_session" not in right.headers.get("set-cookie", "")


async def test_parallel_guesses__no_more_than_five_reach_a_password_check(
    client: httpx.AsyncClient, alice: User
) -> None:
    """30 guesses at once, the right one among them: each is counted before its check, so
    only the first five are checked and the rest are refused unchecked (all 30 used to be)."""
    token = csrf_from((await client.get("/login")).text)

    async def guess(password: str) -> int:
        form = {"email": "alice@example.com", "password": password, "csrf_token": token}
        return (await client.post("/login", data=form)).status_code

    guesses = [f"guess{n}" for n in range(29)] + [PASSWORD]
    statuses = sorted(await asyncio.gather(*(guess(g) for g in guesses)))
    assert statuses.count(429) == 30 - FREE, statuses
    assert set(statuses[:FREE]) <= {303, 401}


async def test_change_password__parallel_guesses_are_throttled_too(
    client: httpx.AsyncClient, alice: User
) -> None:
    async def change(current: str) -> int:
        body = {"current_password": current, "new_password": "a-new-password-1"}
        answer = await client.post("/api/me/password", json=body, headers=alice.auth)
        return answer.status_code

    statuses = sorted(await asyncio.gather(*(change(f"guess{n}") for n in range(20))))
    assert statuses.count(429) == 20 - FREE, statuses


async def test_unknown_accounts__answered_exactly_like_known_ones(
    client: httpx.AsyncClient, alice: User
) -> None:
    known = [_answer(await login(client, "alice@example.com", "guess")) for _ in range(8)]
    unknown = [_answer(await login(client, "nobody@example.com", "guess")) for _ in range(8)]
    assert known == unknown


async def test_per_client_address__many_accounts_from_one_address(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(login_throttle, "ADDRESS", login_throttle.Limit(free=8))
    for n in range(8):
        assert (await login(client, f"user{n}@example.com", "guess")).status_code == 401
    refused = await login(client, "alice@example.com")
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert (await login(browser, "alice@example.com")).status_code == 303  # another address


async def test_waits_double_with_each_further_failure_then_a_login_clears_them(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    for _ in range(FREE):
        await login(client, "alice@example.com", "guess")
    first = int((await login(client, "alice@example.com", "guess")).headers["retry-after"])
    await _execute(pool, "UPDATE crm.login_throttle SET locked_until = now()")  # time passes
    assert (await login(client, "alice@example.com", "guess")).status_code == 401
    second = int((await login(client, "alice@example.com", "guess")).headers["retry-after"])
    assert first <= 30 < second <= 60
    await _execute(pool, "UPDATE crm.login_throttle SET locked_until = now()")
    assert (await login(client, "alice@example.com")).status_code == 303
    async with pool.connection() as conn:
        keys = await (await conn.execute("SELECT key FROM crm.login_throttle")).fetchall()
    assert keys == [("address:127.0.0.1",)]  # the account's count is gone, the address's stays


async def test_argon2_runs_off_the_event_loop(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_loop: list[bool] = []

    def record() -> None:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:  # no loop in this thread: a worker thread
            on_loop.append(False)

    class Spy(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            record()
            return super().verify(hash, password)

        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            record()
            return super().hash(password, salt=salt)

    used = accounts._hasher  # its parameters, so that no login rehashes the stored password
    spy = Spy(time_cost=used.time_cost, memory_cost=used.memory_cost, parallelism=used.parallelism)
    monkeypatch.setattr(accounts, "_hasher", spy)
    assert (await login(client, "alice@example.com")).status_code == 303
    assert (await login(browser, "nobody@example.com")).status_code == 401
    await accounts.create_user(pool, "new@example.com", PASSWORD)
    assert on_loop == [False, False, False]
