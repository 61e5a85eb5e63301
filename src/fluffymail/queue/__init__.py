"""A PostgreSQL job queue with pg-boss's semantics; imports nothing else from FluffyMail but the leaves.

queue = JobQueue(pool)
await queue.create_queue("sync-emails", retry_limit=5, retry_backoff=True)
await queue.send("sync-emails", {"connection_id": 7}, start_after="10 minutes")
await queue.work("sync-emails", handle, concurrency=2)
"""

from fluffymail.queue.batch import BatchItemError, BatchResult
from fluffymail.queue.client import JobQueue
from fluffymail.queue.errors import (
    InvalidHandlerError,
    InvalidOptionError,
    JobExpiredError,
    QueueError,
    UnknownQueueError,
)
from fluffymail.queue.job import Job, JobState, Lease
from fluffymail.queue.options import QueueOptions

__all__ = [
    "BatchItemError",
    "BatchResult",
    "InvalidHandlerError",
    "InvalidOptionError",
    "Job",
    "JobExpiredError",
    "JobQueue",
    "JobState",
    "Lease",
    "QueueError",
    "QueueOptions",
    "UnknownQueueError",
]
