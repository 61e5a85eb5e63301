"""Subscribe to what the queue does: `completed`, `failed`, `error` (pg-boss's job events)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

EVENTS = ("completed", "failed", "retried", "snoozed", "error")


class Events:
    """A tiny synchronous-or-async event emitter; a failing subscriber never breaks the queue."""

    def __init__(self, log: logging.Logger) -> None:
        self._subscribers: dict[str, list[Callable[..., Any]]] = defaultdict(list)
        self._log = log
        self._pending: set[asyncio.Task[Any]] = set()

    def on(self, event: str, callback: Callable[..., Any]) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
        self._subscribers[event].append(callback)

    def off(self, event: str, callback: Callable[..., Any]) -> None:
        self._subscribers[event].remove(callback)

    def has(self, event: str) -> bool:
        """Whether anyone subscribes to `event` (lets the worker skip building payloads)."""
        return bool(self._subscribers.get(event))

    def emit(self, event: str, **payload: Any) -> None:
        for callback in self._subscribers.get(event, ()):
            try:
                result = callback(**payload)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._pending.add(task)
                    task.add_done_callback(self._done)
            except Exception:
                self._log.exception(
                    "event subscriber failed", extra={"action": "queue.event_error", "event": event}
                )

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error(
                "event subscriber failed",
                exc_info=task.exception(),
                extra={"action": "queue.event_error"},
            )
