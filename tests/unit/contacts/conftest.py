"""Corpus access for the contacts tests: read in place, skip cleanly when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _corpus_root() -> Path:
    env = os.environ.get("FLUFFYMAIL_CORPUS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    root = _corpus_root()
    if not (root / "ground_truth").is_dir():
        pytest.skip(f"corpus not found at {root} (set FLUFFYMAIL_CORPUS)")
    return root
