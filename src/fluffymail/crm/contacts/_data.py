"""Loads the maintained plain-text lists in ``contacts/data/`` (one entry a line, ``#`` comments)."""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["load_word_set"]


@cache
def load_word_set(filename: str) -> frozenset[str]:
    """Read ``data/<filename>`` into a lower-cased frozenset, skipping blanks and comments."""
    text = resources.files(__package__).joinpath("data", filename).read_text(encoding="utf-8")
    entries = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(entry for entry in entries if entry)
