"""Durable-workflow systems for bench/workflow_bench.py: one module per system behind wfpeers.common.Side."""

from __future__ import annotations

import importlib

from wfpeers.common import Side

SYSTEMS: tuple[str, ...] = ("fluffymail", "dbos")


def load_side(system: str) -> Side:
    """Import `wfpeers.<system>_side` and return its Side; import errors propagate."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {', '.join(SYSTEMS)}")
    return importlib.import_module(f"wfpeers.{system}_side").SIDE
