"""The `enrich-contact` job: facts about one contact from its own messages and built-in providers.

Payload `{"contact_id": id}`; `extract-contacts` sends it debounced per contact. Providers
come from `crm.contacts.enrichment` (built-ins need no network).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fluffymail.clock import Clock
from fluffymail.crm.contacts import enrichment
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.jobs import kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job

__all__ = ["QUEUE", "make_handler"]

QUEUE = kinds.ENRICH_CONTACT
QUEUE_OPTIONS: dict[str, Any] = {
    "fair": True,  # group key = user (fairness.user_group)
    "retry_limit": 3,
    "retry_delay": 30,
    "retry_backoff": True,
}
log = logging.getLogger(__name__)


def make_handler(
    deps: JobDeps,
    clock: Clock,
    providers: Sequence[enrichment.EnrichmentProvider] | None = None,
) -> Callable[[Job], Any]:
    """Enrich the job's contact with `providers` (default: the built-ins)."""
    chosen = list(providers) if providers is not None else enrichment.default_providers()

    async def handle(job: Job) -> dict[str, Any]:
        contact_id = int(job.data["contact_id"])
        async with deps.pool.connection() as conn, conn.transaction():
            output = await contacts_service.enrich_contact(
                conn, contact_id, providers=chosen, now=clock.now()
            )
        log.debug(
            "contact enriched",
            extra={"action": "contacts.enriched", "contact_id": contact_id, **output},
        )
        return output

    return handle
