"""Which tables each stage of the mail pipeline loads in bulk, and their ANALYZE (and, for
those the pages read by index-only scans, VACUUM) after it."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg_pool import AsyncConnectionPool

from fluffymail.db import stats

__all__ = ["CONTACT_TABLES", "INDEX_ONLY_TABLES", "MAIL_TABLES", "RELATIONSHIP_TABLES", "refresh"]

MAIL_TABLES = (
    "crm.messages",
    "crm.message_search",
    "crm.message_participants",
    "crm.message_folders",
    "crm.threads",
    "crm.thread_keys",
    "crm.mailbox_senders",
)
CONTACT_TABLES = (
    "crm.contacts",
    "crm.contact_addresses",
    "crm.contact_links",
    "crm.contact_name_votes",
    "crm.contact_facts",
    "crm.companies",
)
RELATIONSHIP_TABLES = ("crm.relationships", "crm.relationship_folds")
# counted by index-only scans on every contacts page (crm.contact_figures: a contact's links):
# with the visibility map behind a bulk load each count reads the heap too (202 → 56 ms for a
# page of 50 at 1M messages, issue 19)
INDEX_ONLY_TABLES = ("crm.contact_links",)


async def refresh(pool: AsyncConnectionPool, tables: Sequence[str]) -> list[str]:
    """ANALYZE those of `tables` a bulk load changed a lot, and VACUUM those of them the pages
    read by index-only scans (see `fluffymail.db.stats`)."""
    async with pool.connection() as conn:
        analysed = await stats.refresh(conn, tables)
        visible = [t for t in tables if t in INDEX_ONLY_TABLES]
        return analysed + (await stats.vacuum(conn, visible) if visible else [])
