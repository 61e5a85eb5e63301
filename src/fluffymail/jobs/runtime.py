"""Around a job registry, in any process that runs jobs: the AI client and the recurring jobs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fluffymail.queue import JobQueue, runner
from fluffymail.queue.registry import Registry

if TYPE_CHECKING:
    from fluffymail.config import Settings
    from fluffymail.crm.relationships.summaries import SummaryProvider

__all__ = ["install_schedules", "summary_provider"]


@contextlib.asynccontextmanager
async def summary_provider(config: Settings) -> AsyncIterator[SummaryProvider | None]:
    """The external AI client the settings ask for (None: offline only), held for the worker's
    lifetime and closed when it stops."""
    from fluffymail.integrations import llm

    provider = llm.provider_from_settings(config)
    try:
        yield provider
    finally:
        if provider is not None:
            await provider.aclose()


async def install_schedules(queue: JobQueue, registry: Registry) -> None:
    """Create the recurring jobs of the registered kinds (only missing ones: re-creating a
    schedule could skip a tick)."""
    from fluffymail.jobs import (
        analyze_relationships,
        dispatch_webhooks,
        extract_contacts,
        index_messages,
        recompute_followups,
    )

    kinds = (
        analyze_relationships,
        extract_contacts,
        index_messages,
        recompute_followups,
        dispatch_webhooks,
    )
    scheduled = [kind for kind in kinds if kind.QUEUE in registry]
    if scheduled:
        await runner.prepare(queue, registry)  # once: the schedules need their queues
    for kind in scheduled:
        await kind.install_schedule(queue)
