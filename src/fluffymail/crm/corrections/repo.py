"""The only module that runs `crm/corrections/sql/*.sql`: corrections a user makes by hand.

Every statement is scoped to the user's own rows and runs on the caller's connection (so in
the caller's transaction); a function answering None or False found nothing of the user's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.corrections")
Conn = psycopg.AsyncConnection[Any]
FactField = Literal["title", "phone"]
HideReason = Literal["user", "not_person"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonName:
    full: str
    first: str
    last: str
    quality: int  # crm.contacts.names.NameQuality: 2 first only, 3 first and last

    @classmethod
    def of(cls, full: str) -> PersonName:
        full = " ".join(full.split())
        first, _, last = full.rpartition(" ") if " " in full else (full, "", "")
        return cls(full=full, first=first, last=last, quality=3 if last else 2 if full else 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Company:
    id: int
    name: str
    domain: str
    website: str | None
    merged_into_id: int | None
    absorbed: bool = False  # other companies were merged into it


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyMerge:
    id: int
    into_company_id: int
    from_company_id: int
    contact_ids: tuple[int, ...]
    unmerged_on: datetime | None


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall() if cur.description else []


async def rename(
    conn: Conn, user_id: int, contact_id: int, name: PersonName, now: datetime
) -> bool:
    params = {
        "id": contact_id,
        "user_id": user_id,
        "name": name.full,
        "first_name": name.first,
        "last_name": name.last,
        "quality": name.quality,
        "now": now,
    }
    return bool(await _rows(conn, "contact_rename", params))


async def set_company(
    conn: Conn, user_id: int, contact_id: int, company_id: int | None, now: datetime
) -> bool:
    params = {"id": contact_id, "user_id": user_id, "company_id": company_id, "now": now}
    return bool(await _rows(conn, "contact_set_company", params))


async def set_fact(
    conn: Conn, contact_id: int, field: FactField, value: str, now: datetime
) -> None:
    """The user's value of `field` ('' clears it); the caller refreshes the current facts."""
    params = {"contact_id": contact_id, "field": field, "value": value, "now": now}
    await conn.execute(SQL["contact_forget_fact"], params)
    await conn.execute(SQL["contact_set_fact"], params)


async def set_hidden(
    conn: Conn, user_id: int, contact_id: int, reason: HideReason | None, now: datetime
) -> bool:
    params = {"id": contact_id, "user_id": user_id, "reason": reason, "now": now}
    return bool(await _rows(conn, "contact_set_hidden", params))


async def summary_stale(conn: Conn, user_id: int, contact_id: int) -> None:
    """The contact's summary is no longer current (it names them by an old name)."""
    await conn.execute(SQL["contact_summary_stale"], {"user_id": user_id, "contact_id": contact_id})


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressOwner:
    """The contact that has an address, and why it is hidden (None: it is shown)."""

    contact_id: int
    hidden: str | None


async def address_owner(conn: Conn, user_id: int, address: str) -> AddressOwner | None:
    rows = await _rows(conn, "contact_address_owner", {"user_id": user_id, "address": address})
    if not rows:
        return None
    return AddressOwner(contact_id=rows[0]["contact_id"], hidden=rows[0]["suppressed_reason"])


async def insert_contact(
    conn: Conn,
    user_id: int,
    *,
    address: str,
    name: PersonName,
    company_id: int | None,
    now: datetime,
) -> int | None:
    """A new contact with this address; None when the address is taken meanwhile."""
    params = {
        "user_id": user_id,
        "address": address,
        "name": name.full,
        "first_name": name.first,
        "last_name": name.last,
        "quality": name.quality,
        "company_id": company_id,
        "now": now,
    }
    rows = await _rows(conn, "contact_insert", params)
    return rows[0]["contact_id"] if rows else None


async def lock_company(
    conn: Conn, user_id: int, *, company_id: int | None = None, domain: str | None = None
) -> Company | None:
    """The user's company by id (or by domain), locked for the rest of the transaction."""
    params = {"user_id": user_id, "id": company_id, "domain": domain}
    rows = await _rows(conn, "company_live", params)
    if not rows:
        return None
    r = rows[0]
    return Company(
        id=r["id"],
        name=r["name"],
        domain=r["domain"],
        website=r["website"],
        merged_into_id=r["merged_into_id"],
        absorbed=r["absorbed"],
    )


async def edit_company(
    conn: Conn,
    user_id: int,
    company_id: int,
    *,
    name: str | None,
    website: str | None,
    set_website: bool,
    now: datetime,
) -> bool:
    params = {
        "id": company_id,
        "user_id": user_id,
        "name": name,
        "website": website,
        "set_website": set_website,
        "now": now,
    }
    return bool(await _rows(conn, "company_edit", params))


async def move_people(
    conn: Conn,
    user_id: int,
    from_id: int,
    to_id: int,
    now: datetime,
    ids: Sequence[int] | None = None,
) -> list[int]:
    params = {
        "user_id": user_id,
        "from_id": from_id,
        "to_id": to_id,
        "ids": list(ids) if ids is not None else None,
        "now": now,
    }
    return sorted(r["id"] for r in await _rows(conn, "company_move_people", params))


async def record_company_merge(
    conn: Conn,
    user_id: int,
    *,
    into_id: int,
    from_id: int,
    contact_ids: Sequence[int],
    actor: str,
    now: datetime,
) -> int:
    params = {
        "user_id": user_id,
        "into_id": into_id,
        "from_id": from_id,
        "contact_ids": list(contact_ids),
        "actor": actor,
        "now": now,
    }
    return int((await _rows(conn, "company_record_merge", params))[0]["id"])


async def get_company_merge(conn: Conn, user_id: int, merge_id: int) -> CompanyMerge | None:
    rows = await _rows(conn, "company_merge_get", {"id": merge_id, "user_id": user_id})
    if not rows:
        return None
    r = rows[0]
    return CompanyMerge(
        id=r["id"],
        into_company_id=r["into_company_id"],
        from_company_id=r["from_company_id"],
        contact_ids=tuple(r["contact_ids"]),
        unmerged_on=r["unmerged_on"],
    )


async def record_company_unmerge(conn: Conn, merge_id: int, actor: str, now: datetime) -> bool:
    params = {"id": merge_id, "actor": actor, "now": now}
    return bool(await _rows(conn, "company_record_unmerge", params))


async def company_merges(conn: Conn, user_id: int, company_id: int) -> list[dict[str, Any]]:
    return await _rows(conn, "company_merges", {"id": company_id, "user_id": user_id})
