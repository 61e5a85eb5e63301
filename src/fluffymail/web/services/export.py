"""Contacts and companies out of FluffyMail: as CSV (a selection of the list, or every contact
a list or filter selects, streamed) and as vCard 3.0 (written with `vobject`). One row per
contact, the columns a spreadsheet wants; the import reads these files back (the same
columns, notes split on the same separator). A cell that a spreadsheet would run as a formula
is prefixed with an apostrophe (OWASP's CSV-injection advice); the import takes it off again.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Literal

import vobject
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.relationships import figures
from fluffymail.web.services import activity
from fluffymail.web.services import lists as lists_service
from fluffymail.web.services.contacts import ContactNotFound, ContactQuery
from fluffymail.web.services.messages import SQL, fetch_all

HEADER = (
    "name",
    "email",
    "company",
    "company_domain",
    "title",
    "phone",
    "level",
    "score",
    "last_interaction",
    "you_sent",
    "they_sent",
    "tags",
    "notes",
)
COMPANY_HEADER = ("name", "domain", "website", "people", "tags", "notes")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000  # rows fetched from the server-side cursor, and written, at a time
Format = Literal["csv", "vcf"]
UPDATING = "updating…"  # the level cell while the figures are being recomputed, as the pages say


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _values(r: dict[str, Any]) -> tuple[Any, ...]:
    """One row; its figures are the list's and the contact page's (crm.contact_figures): while
    they are updating, the level says so and the numbers are empty, never the old ones."""
    f = figures.from_json(r["figures"])
    level = UPDATING if f.updating else f.level
    last = f.last_at.date().isoformat() if f.last_at else None
    return (
        r["name"], r["primary_address"], r["company"], r["company_domain"], r["title"],
        r["phone"], level, f.strength, last, f.sent, f.received, r["tags"], r["notes"],
    )  # fmt: skip


def _csv_text(rows: Iterable[Iterable[Any]], header: Sequence[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


async def contacts_csv(pool: AsyncConnectionPool, user_id: int, contact_ids: Sequence[int]) -> str:
    """The contacts as CSV; `ContactNotFound` (and nothing exported) when any is not the user's."""
    wanted = sorted(set(contact_ids))
    async with pool.connection() as conn:
        rows = await fetch_all(conn, "contact_export", {"user_id": user_id, "ids": wanted})
    if missing := sorted(set(wanted) - {r["id"] for r in rows}):
        raise ContactNotFound(f"no contact {', '.join(map(str, missing[:10]))}")
    return _csv_text((_values(r) for r in rows), HEADER)


def vcard(r: dict[str, Any]) -> str:
    """One contact as a vCard 3.0."""
    card = vobject.vCard()
    name = r["name"] or r["primary_address"]
    card.add("fn").value = name
    first, last = r.get("first_name") or "", r.get("last_name") or ""
    if not (first or last) and r["name"]:
        first = r["name"]
    card.add("n").value = vobject.vcard.Name(family=last, given=first)
    email = card.add("email")
    email.value, email.type_param = r["primary_address"], "INTERNET"
    if r["company"]:
        card.add("org").value = [r["company"]]
    if r["title"]:
        card.add("title").value = r["title"]
    for phone in (r["phone"] or "").split("; "):
        if phone:
            card.add("tel").value = phone
    if r["tags"]:
        card.add("categories").value = r["tags"].split("; ")
    if r["notes"]:
        card.add("note").value = r["notes"]
    return card.serialize()


async def selection(
    pool: AsyncConnectionPool, user_id: int, *, list_id: int | None, filter_text: str | None
) -> ContactQuery:
    """The contacts a list (one the user can see) and a filter select together: the filter's
    terms narrow the list (a term the list also has is the filter's)."""
    async with pool.connection() as conn:
        query = ContactQuery()
        if list_id is not None:
            query = (await lists_service.open_list(pool, user_id, list_id, limit=1, offset=0)).query
        if filter_text and filter_text.strip():
            workspace_id = await activity.workspace_of(conn, user_id)
            narrow, _ = await lists_service.resolve_filter(conn, user_id, workspace_id, filter_text)
            changes = {
                f.name: getattr(narrow, f.name)
                for f in dataclasses.fields(narrow)
                if f.name not in ("sort", "limit", "offset") and getattr(narrow, f.name) is not None
            }
            query = dataclasses.replace(query, **changes)
    return query


async def stream_contacts(
    pool: AsyncConnectionPool, user_id: int, query: ContactQuery, fmt: Format
) -> AsyncIterator[str]:
    """Every contact the query selects, as CSV (with its header) or vCards, in pieces."""
    if fmt == "csv":
        yield _csv_text((), HEADER)
    params = query.params(user_id)
    async for batch in _batches(pool, "contact_export_all", params):
        if fmt == "csv":
            yield _csv_text(_values(r) for r in batch)
        else:  # vobject takes about half a millisecond a card: off the event loop
            yield await asyncio.to_thread(lambda rows=batch: "".join(vcard(r) for r in rows))


async def stream_companies(
    pool: AsyncConnectionPool, user_id: int, *, q: str | None, tag_id: int | None
) -> AsyncIterator[str]:
    """Every live company of the user (those `q` and `tag_id` select) as CSV, in pieces."""
    text = (q or "").strip()
    params = {
        "user_id": user_id,
        "tag_id": tag_id,
        "search": text or None,  # folded in the SQL, as the companies list
    }
    yield _csv_text((), COMPANY_HEADER)
    async for batch in _batches(pool, "company_export_all", params):
        yield _csv_text(
            (r["name"], r["domain"], r["website"], r["people"], r["tags"], r["notes"])
            for r in batch
        )


async def _batches(
    pool: AsyncConnectionPool, statement: str, params: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    """The statement's rows, `BATCH` at a time, from a server-side cursor (one snapshot)."""
    async with (
        pool.connection() as conn,
        conn.transaction(),
        conn.cursor(name="export", row_factory=dict_row) as cur,
    ):
        await conn.execute(SQL["export_settings"])
        await cur.execute(SQL[statement], params)
        while batch := await cur.fetchmany(BATCH):
            yield batch
