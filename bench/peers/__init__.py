"""Queue-system adapters for bench/queue_bench.py: one module per system behind peers.common.Adapter."""

from __future__ import annotations

import importlib

from peers.common import Adapter

SYSTEMS: tuple[str, ...] = ("fluffymail", "pgqueuer", "procrastinate")


def load_adapter(system: str) -> Adapter:
    """Import `peers.<system>_adapter` and return its Adapter; import errors propagate."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {', '.join(SYSTEMS)}")
    module = importlib.import_module(f"peers.{system}_adapter")
    return module.ADAPTER
