"""Fixtures for the message-parsing tests: where the shared read-only corpus lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The development corpus (`../shared/corpus` or $FLUFFYMAIL_CORPUS); skips when absent."""
    configured = os.environ.get("FLUFFYMAIL_CORPUS")
    path = Path(configured) if configured else _REPO_ROOT / ".." / "shared" / "corpus"
    if not (path / "README.md").is_file():
        pytest.skip(f"mail corpus not found at {path} (set FLUFFYMAIL_CORPUS)")
    return path.resolve()
