"""Accounts: argon2 passwords, server-side sessions with a CSRF token, and hashed API tokens.

Tokens are random 32-byte strings; only their SHA-256 is stored, so the tables cannot be
replayed. argon2 runs in a worker thread: it is meant to be slow and must not stall the event
loop. Runs `web/sql/*.sql` on the caller's pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.db.sql import load_sql
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import login_throttle

SQL = load_sql("fluffymail.web")
SESSION_SECONDS = 14 * 24 * 3600
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not a real password")


class AccountError(FluffyMailError):
    """The account could not be created."""


class WrongPassword(AccountError):
    """The current password is not right."""


class Throttled(AccountError):
    """Too many wrong passwords: wait `wait` seconds."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"too many wrong passwords; try again in {wait} seconds")
        self.wait = wait


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """The person behind a request."""

    id: int
    email: str
    name: str
    is_admin: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        return cls(id=row["id"], email=row["email"], name=row["name"], is_admin=row["is_admin"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A logged-in browser: its id (the cookie token's hash), its account and the CSRF token
    its forms must echo."""

    id: bytes
    account: Account
    csrf_token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """An API token as listed: never the token itself."""

    id: int
    name: str
    created_on: datetime
    last_used_on: datetime | None
    expires_on: datetime | None
    expired: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiToken:
        return cls(
            id=row["id"], name=row["name"], created_on=row["created_on"],
            last_used_on=row["last_used_on"], expires_on=row["expires_on"],
            expired=bool(row["expired"]),
        )  # fmt: skip


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def _one(
    pool: AsyncConnectionPool, query: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[query], params)  # type: ignore[index]
        return await cur.fetchone() if cur.description else None


async def create_user(
    pool: AsyncConnectionPool, email: str, password: str, *, name: str = "", is_admin: bool = False
) -> tuple[Account, bool]:
    """Create a user who can log in (or reset an existing one's password, which ends all their
    sessions); True when created."""
    email = email.strip().lower()
    if "@" not in email.strip("@"):
        raise AccountError(f"not an email address: {email!r}")
    _check_new_password(password)
    params = {
        "email": email,
        "name": name,
        "password_hash": await asyncio.to_thread(_hasher.hash, password),
        "is_admin": is_admin,
    }
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor(row_factory=dict_row) as cur:
            row = await (await cur.execute(SQL["upsert_account"], params)).fetchone()
            assert row is not None
            await cur.execute(
                SQL["ensure_personal_workspace"], {"user_id": row["id"], "name": name or email}
            )
            if not row["created"]:
                await cur.execute(SQL["end_other_sessions"], {"user_id": row["id"], "keep": None})
    return Account.from_row(row), bool(row["created"])


def _check_new_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("the password must be at least 8 characters")


async def change_password(
    pool: AsyncConnectionPool,
    account: Account,
    current: str,
    new: str,
    *,
    keep_session: bytes | None,
    address: str | None,
) -> None:
    """Set a new password after checking the current one, and end every other session of the
    user: all but `keep_session` (None: all). Wrong current passwords count like failed logins
    (`WrongPassword`, then `Throttled`), so a stolen session cannot guess the password."""
    _check_new_password(new)
    attempt = login_throttle.LoginAttempt.of(account.email, address)
    if wait := await login_throttle.reserve(pool, attempt):
        raise Throttled(wait)
    row = await _one(pool, "get_password_hash", {"id": account.id})
    stored = (row or {}).get("password_hash")
    if not await _verify(stored or _DUMMY_HASH, current) or stored is None:
        raise WrongPassword("the current password is not right")  # counted by the reservation
    await login_throttle.succeeded(pool, attempt)
    new_hash = await asyncio.to_thread(_hasher.hash, new)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(SQL["set_password_hash"], {"id": account.id, "password_hash": new_hash})
        await conn.execute(SQL["end_other_sessions"], {"user_id": account.id, "keep": keep_session})


async def authenticate(pool: AsyncConnectionPool, email: str, password: str) -> Account | None:
    """The account when `password` is right, else None (same work either way)."""
    row = await _one(pool, "get_login", {"email": email.strip().lower()})
    stored = (row or {}).get("password_hash") or _DUMMY_HASH
    if not await _verify(stored, password):
        return None
    if row is None or row["password_hash"] is None:
        return None
    if _hasher.check_needs_rehash(stored):
        rehashed = await asyncio.to_thread(_hasher.hash, password)
        await _one(pool, "set_password_hash", {"id": row["id"], "password_hash": rehashed})
    return Account.from_row(row)


async def _verify(stored: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def start_session(pool: AsyncConnectionPool, account: Account) -> tuple[str, Session]:
    """A new session for `account`; returns the cookie token (shown only here) and the session."""
    token, csrf = new_token(), new_token()
    session_id = token_hash(token)
    await _one(
        pool,
        "insert_session",
        {
            "token_hash": session_id,
            "user_id": account.id,
            "csrf_token": csrf,
            "seconds": SESSION_SECONDS,
        },
    )
    return token, Session(id=session_id, account=account, csrf_token=csrf)


async def get_session(pool: AsyncConnectionPool, token: str) -> Session | None:
    session_id = token_hash(token)
    row = await _one(pool, "get_session", {"token_hash": session_id})
    if row is None:
        return None
    return Session(id=session_id, account=Account.from_row(row), csrf_token=row["csrf_token"])


async def end_session(pool: AsyncConnectionPool, token: str) -> None:
    await _one(pool, "delete_session", {"token_hash": token_hash(token)})


async def create_api_token(
    pool: AsyncConnectionPool, account_id: int, name: str, *, lifetime: timedelta | None = None
) -> str:
    """A new bearer token named `name` (replacing one of that name), valid for `lifetime`
    (None: until revoked); only its hash is kept."""
    if not name.strip():
        raise AccountError("an API token needs a name")
    if lifetime is not None and lifetime <= timedelta(0):
        raise AccountError("an API token's lifetime must be positive")
    token = f"fm_{new_token()}"
    await _one(
        pool,
        "insert_api_token",
        {
            "user_id": account_id,
            "name": name.strip(),
            "token_hash": token_hash(token),
            "seconds": lifetime.total_seconds() if lifetime else None,
        },
    )
    return token


async def list_api_tokens(pool: AsyncConnectionPool, account_id: int) -> list[ApiToken]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL["list_api_tokens"], {"user_id": account_id})
        return [ApiToken.from_row(row) for row in await cur.fetchall()]


async def revoke_api_token(
    pool: AsyncConnectionPool, token_id: int, *, account_id: int | None
) -> str | None:
    """Delete token `token_id` of `account_id` (None: of anyone); its name, None if not found."""
    row = await _one(pool, "delete_api_token", {"id": token_id, "user_id": account_id})
    return row["name"] if row else None


async def account_for_token(pool: AsyncConnectionPool, token: str) -> Account | None:
    row = await _one(pool, "get_token_user", {"token_hash": token_hash(token)})
    return Account.from_row(row) if row else None


def csrf_matches(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and secrets.compare_digest(session.csrf_token, submitted or "")


async def find_account(pool: AsyncConnectionPool, email: str) -> Account | None:
    row = await _one(pool, "get_login", {"email": email.strip().lower()})
    return Account.from_row(row) if row else None
