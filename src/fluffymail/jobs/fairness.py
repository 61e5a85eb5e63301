"""The fairness key of the job kinds that do one user's work (the queue's fair groups)."""

from __future__ import annotations

__all__ = ["user_group"]


def user_group(user_id: int | None) -> str | None:
    """The group key of `user_id`'s jobs: a small mailbox is not queued behind a big one's."""
    return None if user_id is None else f"user-{user_id}"
