"""Outcomes a handler can return (or raise) besides a plain result: `Snooze`, `Settled`."""

from __future__ import annotations

from fluffymail.queue import validate


class Snooze(Exception):
    """Run this job again in `seconds` without spending an attempt.

    With `pause_group=True` the job's whole group key is paused for that long (an upstream
    429 with Retry-After means every job of that key would fail the same way); with
    `pause_queue=True` the whole queue is, for every worker (the limit is shared by every job
    of the queue, e.g. one API key for all users).
    """

    def __init__(
        self, seconds: float, *, pause_group: bool = False, pause_queue: bool = False
    ) -> None:
        if seconds != 0:  # 0: run again at once
            validate.seconds(seconds, "snooze seconds")
        super().__init__(f"snoozed for {seconds}s")
        self.seconds = float(seconds)
        self.pause_group = pause_group
        self.pause_queue = pause_queue


class Settled(Exception):
    """Raised by a handler that already moved its own job on, with its lease, in a statement
    of its own (a workflow run suspending, or a child run completing together with its
    parent's fan-in): the worker records nothing for the attempt."""
