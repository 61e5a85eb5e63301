"""The user's identity as the "You" page shows it: their own addresses (aliases) and the other
people sending from their mailbox (delegates), with the evidence for each; and the user's
confirm / reject. The rules live in `crm.contacts` (`identity`, `service`): a change here
re-attributes the address's mail at once and asks for a new relationship analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import addresses
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.errors import FluffyMailError
from fluffymail.jobs import analyze_relationships
from fluffymail.queue import JobQueue
from fluffymail.web.services.contacts import db_now
from fluffymail.web.services.messages import Conn, fetch_all, fetch_one

__all__ = [
    "AddressNotListed",
    "Identity",
    "IdentityEntry",
    "IdentityRefused",
    "confirm",
    "load",
    "reject",
]


class IdentityRefused(FluffyMailError):
    """The change cannot be made (the account's own address is always the user's)."""


class AddressNotListed(FluffyMailError):
    """The address is not one of the user's aliases or sent-folder senders."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityEntry:
    address: str
    display_name: str
    is_alias: bool
    is_account: bool
    source: str  # owner, provider, user, sent_folder ('' for a delegate)
    decided_by: str  # rule or user
    reason: str
    sent_messages: int
    sent_total: int
    contact_id: int | None

    @property
    def share(self) -> float:
        return self.sent_messages / self.sent_total if self.sent_total else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    aliases: tuple[IdentityEntry, ...]
    delegates: tuple[IdentityEntry, ...]


async def load(pool: AsyncConnectionPool, user_id: int) -> Identity:
    async with pool.connection() as conn:
        rows = await fetch_all(conn, "identity_list", {"user_id": user_id})
    entries = [IdentityEntry(**row) for row in rows]
    return Identity(
        aliases=tuple(e for e in entries if e.is_alias),
        delegates=tuple(e for e in entries if not e.is_alias),
    )


async def _listed(conn: Conn, user_id: int, raw: str) -> str:
    """The normalised address, when the user's page lists it; else `AddressNotListed` (another
    user's address looks exactly like one nobody has)."""
    normalized = addresses.normalize_address(raw)
    if normalized is not None:
        row = await fetch_one(
            conn, "identity_has_address", {"user_id": user_id, "address": normalized.email}
        )
        if row is not None and row["listed"]:
            return normalized.email
    raise AddressNotListed(f"no address {raw!r} among your addresses and delegates")


async def _ensure_analysis_queue(queue: JobQueue | None) -> None:
    if queue is not None and analyze_relationships.QUEUE not in await queue.get_queues():
        await queue.create_queue(analyze_relationships.QUEUE, **analyze_relationships.QUEUE_OPTIONS)


async def _request_analysis(queue: JobQueue | None, conn: Conn, user_id: int) -> None:
    """Rescore the user now: the change moved mail between the user and a contact."""
    if queue is not None:
        await analyze_relationships.enqueue(queue, user_id, conn=conn, debounce=0)


async def confirm(
    pool: AsyncConnectionPool,
    user_id: int,
    address: str,
    *,
    actor: str,
    queue: JobQueue | None = None,
) -> None:
    """The address is the user's: its mail becomes theirs (and the user is rescored)."""
    await _ensure_analysis_queue(queue)
    async with pool.connection() as conn, conn.transaction():
        email = await _listed(conn, user_id, address)
        now = await db_now(conn)
        await contacts_service.confirm_alias(conn, user_id, email, now=now, actor=actor)
        await _request_analysis(queue, conn, user_id)


async def reject(
    pool: AsyncConnectionPool,
    user_id: int,
    address: str,
    *,
    account_email: str,
    actor: str,
    queue: JobQueue | None = None,
) -> None:
    """The address is someone else: no longer an alias, its mail re-attributed to them."""
    await _ensure_analysis_queue(queue)
    async with pool.connection() as conn, conn.transaction():
        email = await _listed(conn, user_id, address)
        if email == account_email.lower():
            raise IdentityRefused("the account's own address is always yours")
        now = await db_now(conn)
        await contacts_service.release_aliases(conn, user_id, [email], now=now, actor=actor)
        await _request_analysis(queue, conn, user_id)
