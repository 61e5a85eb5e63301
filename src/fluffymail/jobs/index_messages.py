"""The `index-messages` job: write the search rows of a chunk of one user's messages.

A sync's store leaves its messages' search rows deferred (migration 0038); the sync's run
indexes them once its mail is extracted and scored (`sync_emails`: the people come first, the
search a moment later), one job per chunk of ids in the run's `index` group. Payload
`{"message_ids": [...], "user_id": id}`. Re-running a job changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fluffymail.crm.mail import repo as mail_repo
from fluffymail.jobs import kinds
from fluffymail.jobs.deps import JobDeps
from fluffymail.jobs.fairness import message_chunks
from fluffymail.queue import Job

__all__ = ["CHUNK", "QUEUE", "QUEUE_OPTIONS", "Args", "chunks", "make_handler"]

QUEUE = kinds.INDEX_MESSAGES
CHUNK = 1000  # message ids per job: a few seconds of the database's time at most
QUEUE_OPTIONS: dict[str, Any] = {
    "fair": True,  # group key = user: one big import's chunks do not hold back another user's
    "retry_limit": 3,
    "retry_delay": 10,
    "retry_backoff": True,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Args:
    message_ids: tuple[int, ...]
    user_id: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Args:
        ids = tuple(int(i) for i in data["message_ids"])
        return cls(message_ids=ids, user_id=int(data["user_id"]))


def chunks(message_ids: Sequence[int], user_id: int, size: int = CHUNK) -> list[dict[str, Any]]:
    """Job specs (payload and fairness key) for `user_id`'s `message_ids`, `size` per job."""
    return message_chunks(message_ids, user_id, size)


def make_handler(deps: JobDeps) -> Callable[[Job], Any]:
    """Index the job's messages (those already indexed are left as they are)."""

    async def handle(job: Job) -> dict[str, Any]:
        args = Args.from_data(job.data)
        async with deps.pool.connection() as conn, conn.transaction():
            await mail_repo.index_for_search(conn, args.message_ids)
        return {"indexed": len(args.message_ids)}

    return handle
