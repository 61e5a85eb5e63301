"""Contacts as CSV (a selection of the list, or a list's contacts): one row per contact, the
columns a spreadsheet wants. A cell that a spreadsheet would run as a formula is prefixed with
an apostrophe (OWASP's CSV-injection advice)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.web.services.contacts import ContactNotFound
from fluffymail.web.services.messages import fetch_all

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
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def contacts_csv(pool: AsyncConnectionPool, user_id: int, contact_ids: Sequence[int]) -> str:
    """The contacts as CSV; `ContactNotFound` (and nothing exported) when any is not the user's."""
    wanted = sorted(set(contact_ids))
    async with pool.connection() as conn:
        rows = await fetch_all(conn, "contact_export", {"user_id": user_id, "ids": wanted})
    if missing := sorted(set(wanted) - {r["id"] for r in rows}):
        raise ContactNotFound(f"no contact {', '.join(map(str, missing[:10]))}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for r in rows:
        last = r["last_interaction_on"]
        score = None if r["score"] is None else round(float(r["score"]), 1)
        values = (
            r["name"],
            r["primary_address"],
            r["company"],
            r["company_domain"],
            r["title"],
            r["phone"],
            r["level"],
            score,
            last.date().isoformat() if last else None,
            r["sent_to_count"],
            r["received_from_count"],
            r["tags"],
        )
        writer.writerow([_cell(v) for v in values])
    return out.getvalue()
