"""The fairness key of the job kinds that do one user's work (the queue's fair groups), and
the specs of such jobs over a user's messages in chunks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["message_chunks", "user_group"]


def user_group(user_id: int | None) -> str | None:
    """The group key of `user_id`'s jobs: a small mailbox is not queued behind a big one's."""
    return None if user_id is None else f"user-{user_id}"


def message_chunks(message_ids: Sequence[int], user_id: int, size: int) -> list[dict[str, Any]]:
    """Job specs over `user_id`'s `message_ids`, `size` per job: payload
    `{"message_ids": [...], "user_id": id}` and the user's fairness key."""
    ids = list(message_ids)
    return [
        {
            "data": {"message_ids": ids[i : i + size], "user_id": user_id},
            "group_key": user_group(user_id),
        }
        for i in range(0, len(ids), size)
    ]
