"""Which tables each stage of the mail pipeline loads in bulk, and their ANALYZE after it."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg_pool import AsyncConnectionPool

from fluffymail.db import stats

__all__ = ["CONTACT_TABLES", "MAIL_TABLES", "RELATIONSHIP_TABLES", "refresh"]

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


async def refresh(pool: AsyncConnectionPool, tables: Sequence[str]) -> list[str]:
    """ANALYZE those of `tables` a bulk load changed a lot (see `fluffymail.db.stats`)."""
    async with pool.connection() as conn:
        return await stats.refresh(conn, tables)
