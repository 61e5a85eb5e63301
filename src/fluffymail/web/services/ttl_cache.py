"""A small in-process cache whose entries expire after `ttl` seconds (monotonic clock), bounded
in size: for values a polled page would otherwise recompute every few seconds."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class TtlCache:
    """`get` answers a value put less than `ttl` seconds ago; the oldest entries go past
    `size`. The web app runs on one event loop: no lock needed."""

    def __init__(
        self, ttl: float, *, size: int = 2000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.size, self._clock = ttl, size, clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        found = self._entries.get(key)
        if found is None or self._clock() - found[0] >= self.ttl:
            return None
        return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
