"""The nightly sweeps' shared step: send a stage's job again for the mail it left behind."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from fluffymail.jobs import fairness, priorities
from fluffymail.queue import JobQueue

__all__ = ["send_again"]


async def send_again(
    queue: JobQueue,
    name: str,
    left: Mapping[int, Sequence[int]],
    *,
    size: int,
    log: logging.Logger,
    action: str,
) -> dict[str, int]:
    """Jobs of `name` for each user's `left` message ids, `size` per job, fair per user and
    behind everyone's new mail (bulk priority); logged as a warning when there were any."""
    specs = [
        {**spec, "priority": priorities.BULK}
        for user_id, ids in left.items()
        for spec in fairness.message_chunks(ids, user_id, size)
    ]
    sent = await queue.insert_many(name, specs) if specs else []
    output = {
        "users": len(left),
        "messages": sum(len(ids) for ids in left.values()),
        "jobs": len(sent),
    }
    if left:
        log.warning(
            "mail left behind sent again", extra={"action": action, "queue": name, **output}
        )
    return output
