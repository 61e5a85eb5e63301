"""The queue's exceptions; every one is a `QueueError` (a `FluffyMailError`)."""

from __future__ import annotations

from fluffymail.errors import FluffyMailError


class QueueError(FluffyMailError):
    """The job queue failed."""


class UnknownQueueError(QueueError):
    """No such queue: create it with create_queue() first."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown queue {name!r}: create it with create_queue() first")
        self.queue = name


class InvalidOptionError(QueueError, ValueError):
    """An option given to the queue is invalid."""


class InvalidHandlerError(QueueError, TypeError):
    """A job handler must be an `async def` function taking the job."""


class JobExpiredError(QueueError):
    """The job ran past its expiry and was stopped."""
