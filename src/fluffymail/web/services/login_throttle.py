"""Login throttling: failed logins counted per account and per client address in PostgreSQL
(shared by every web process), and growing waits once a key has failed too often.

Each attempt is counted before its password is checked (a right one is given back), so
parallel guesses cannot all pass the check before any is counted. A key locked for N more
seconds is refused without checking the password (429, Retry-After).
Accounts that do not exist are counted under their email like any other, so a throttled
answer says nothing about which accounts exist. An attacker can lock a victim's account for a
while (a few minutes at most, growing only while failures go on); that is the price of
stopping password guessing, and a per-address limit alone would not stop a botnet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
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

    @property
    def keys(self) -> list[str]:
        return [self.account_key, self.address_key]

    @classmethod
    def of(cls, email: str, address: str | None) -> LoginAttempt:
        return cls(
            account_key=f"account:{email.strip().lower()}",
            address_key=f"address:{address or 'unknown'}",
        )

    @classmethod
    def signing_up(cls, invite_token: str, address: str | None) -> LoginAttempt:
        """A sign-up by invite: counted per invite (its token's hash: the token is never
        stored) like an account, since its answer tells whether an address has an account."""
        digest = hashlib.sha256(invite_token.encode()).hexdigest()[:32]
        return cls(account_key=f"invite:{digest}", address_key=f"address:{address or 'unknown'}")


async def reserve(pool: AsyncConnectionPool, attempt: LoginAttempt) -> int:
    """Count this attempt against both keys before its password is checked: 0 when it may
    go on, else the seconds it must wait (and nothing is counted).

    Checking the lock and counting are one statement per key, so a burst of parallel
    guesses is counted one by one: the `free`-th locks the key for the rest."""
    async with pool.connection() as conn:
        async with conn.transaction():
            for key, limit in ((attempt.account_key, ACCOUNT), (attempt.address_key, ADDRESS)):
                cur = await conn.execute(SQL["reserve_login_attempt"], _params(key, limit))
                if await cur.fetchone() is None:  # locked: count neither key
                    raise psycopg.Rollback()
            return 0
        row = await (await conn.execute(SQL["login_wait"], {"keys": attempt.keys})).fetchone()
    return max(int(row[0]) if row else 0, 1)


async def succeeded(pool: AsyncConnectionPool, attempt: LoginAttempt) -> None:
    """The password was right: forget the account's failures, give the address back the
    attempt counted against it (one's own login must not reset a guesser's count), and prune
    keys long quiet."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            SQL["give_back_login_attempt"], {"key": attempt.address_key, "free": ADDRESS.free}
        )
        await conn.execute(
            SQL["clear_login_failures"], {"key": attempt.account_key, "window": ACCOUNT.window}
        )


def _params(key: str, limit: Limit) -> dict[str, object]:
    return {"key": key, "free": limit.free, "base": limit.base, "cap": limit.cap,
            "window": limit.window}  # fmt: skip
