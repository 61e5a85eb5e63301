"""Which tables each stage of the mail pipeline loads in bulk, and their ANALYZE (and, for
those read by index-only scans or emptied as fast as they fill, VACUUM) after it."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg_pool import AsyncConnectionPool

from fluffymail.db import stats

__all__ = [
    "CONTACT_TABLES",
    "EXTRACTION_TABLES",
    "MAIL_TABLES",
    "RELATIONSHIP_TABLES",
    "SEARCH_TABLES",
    "VACUUMED_TABLES",
    "refresh",
]

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
    # kept by the links' triggers (0046), read per person by a connection's people pages
    "crm.connection_correspondents",
    # counted by extraction as it takes mail off the pending list (0057; by the participants'
    # trigger before), read by the groups pages
    "crm.recipient_senders",
)
RELATIONSHIP_TABLES = ("crm.relationships", "crm.relationship_folds")
# what `index-messages` writes, after the run's analysis has analysed the mail tables: without
# its own ANALYZE a big import's search rows had no statistics at all, and the searches were
# planned blind (a common word 270 ms instead of 24, a phrase 360 instead of 70; issue 19)
SEARCH_TABLES = ("crm.message_search",)
# what an extraction batch writes: the contacts, and the messages it takes off the pending list
EXTRACTION_TABLES = (*CONTACT_TABLES, "crm.message_pending")
VACUUMED_TABLES = (
    # counted by index-only scans on every contacts page (crm.contact_figures: a contact's
    # links): with the visibility map behind a bulk load each count reads the heap too
    # (202 → 56 ms for a page of 50 at 1M messages, issue 19)
    "crm.contact_links",
    # a row per message from its insert until its extraction (0043): without a VACUUM its dead
    # rows pile up (autovacuum may be off or behind a load) instead of making room for the next
    "crm.message_pending",
    # counts updated by every extraction batch (0057; by every stored batch in 0056): 2.2M row
    # versions for 23,000 rows at 1M messages, 19 MB for 3 MB of counts
    "crm.recipient_senders",
)


async def refresh(pool: AsyncConnectionPool, tables: Sequence[str]) -> list[str]:
    """ANALYZE those of `tables` a bulk load changed a lot, and VACUUM those of them the pages
    read by index-only scans or churned (`VACUUMED_TABLES`, see `fluffymail.db.stats`)."""
    async with pool.connection() as conn:
        analysed = await stats.refresh(conn, tables)
        churned = [t for t in tables if t in VACUUMED_TABLES]
        return analysed + (await stats.vacuum(conn, churned) if churned else [])
