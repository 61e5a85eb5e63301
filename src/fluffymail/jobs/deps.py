"""What a job handler may use: settings, the database pool and the queue, built by an entry point."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from psycopg_pool import AsyncConnectionPool

    from fluffymail.config import Settings
    from fluffymail.crm.relationships.summaries import SummaryProvider
    from fluffymail.queue import JobQueue


@dataclass(frozen=True, slots=True, kw_only=True)
class JobDeps:
    settings: Settings
    pool: AsyncConnectionPool
    queue: JobQueue
    log: logging.Logger
    # the external AI for relationship summaries; None: built from settings by the job
    summary_provider: SummaryProvider | None = None
    # where syncs parse mail (a worker's parser process); None: in a thread
    parser: Executor | None = None
