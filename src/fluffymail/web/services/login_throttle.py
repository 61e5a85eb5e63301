"""Login throttling: failed logins counted per account and per client address in PostgreSQL
(shared by every web process), and growing waits once a key has failed too often.

A key locked for N more seconds is refused without checking the password (429, Retry-After).
Accounts that do not exist are counted under their email like any other, so a throttled
answer says nothing about which accounts exist. An attacker can lock a victim's account for a
while (a few minutes at most, growing only while failures go on); that is the price of
stopping password guessing, and a per-address limit alone would not stop a botnet.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.web")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """`free` failures within `window` seconds of each other, then a `base`-second lock that
    doubles with every further failure, up to `cap` seconds."""

    free: int
    base: float = 30.0
    cap: float = 15 * 60.0
    window: float = 60 * 60.0


ACCOUNT = Limit(free=5)
# Offices and mobile carriers put many people behind one address: more room, same growth.
ADDRESS = Limit(free=20)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginAttempt:
    """Who is trying: the throttle keys of the account (by email) and of the client address."""

    account_key: str
    address_key: str

    @classmethod
    def of(cls, email: str, address: str | None) -> LoginAttempt:
        return cls(
            account_key=f"account:{email.strip().lower()}",
            address_key=f"address:{address or 'unknown'}",
        )


async def wait_seconds(pool: AsyncConnectionPool, attempt: LoginAttempt) -> int:
    """How long this attempt must still wait (0: it may try now)."""
    keys = [attempt.account_key, attempt.address_key]
    async with pool.connection() as conn:
        row = await (await conn.execute(SQL["login_wait"], {"keys": keys})).fetchone()
    return int(row[0]) if row else 0


async def failed(pool: AsyncConnectionPool, attempt: LoginAttempt) -> None:
    """Count a wrong password (or an unknown account) against both keys."""
    async with pool.connection() as conn, conn.transaction():
        for key, limit in ((attempt.account_key, ACCOUNT), (attempt.address_key, ADDRESS)):
            await conn.execute(
                SQL["record_login_failure"],
                {"key": key, "free": limit.free, "base": limit.base, "cap": limit.cap,
                 "window": limit.window},
            )  # fmt: skip


async def succeeded(pool: AsyncConnectionPool, attempt: LoginAttempt) -> None:
    """Forget the account's failures (the address's stay: one's own login must not reset a
    guesser's count) and prune keys long quiet."""
    async with pool.connection() as conn:
        await conn.execute(
            SQL["clear_login_failures"], {"key": attempt.account_key, "window": ACCOUNT.window}
        )
