"""The registry: which handler runs each job kind, and the queue options that kind wants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fluffymail.queue.batch import BatchHandler
from fluffymail.queue.worker import Handler


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    name: str
    handler: Handler | BatchHandler
    concurrency: int = 1
    batch_size: int | None = None
    batch_window: float | None = None  # set: `handler` takes a list of jobs (see batch.py)
    queue_options: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Job name -> handler + options; built once by an application and handed to the runner."""

    def __init__(self) -> None:
        self._entries: dict[str, Registration] = {}

    def register(
        self,
        name: str,
        handler: Handler | BatchHandler,
        *,
        concurrency: int = 1,
        batch_size: int | None = None,
        batch_window: float | None = None,
        **queue_options: Any,
    ) -> None:
        if name in self._entries:
            raise ValueError(f"job {name!r} is registered twice")
        self._entries[name] = Registration(
            name=name,
            handler=handler,
            concurrency=concurrency,
            batch_size=batch_size,
            batch_window=batch_window,
            queue_options=queue_options,
        )

    def __iter__(self) -> Iterator[Registration]:
        return iter(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> Registration:
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)
