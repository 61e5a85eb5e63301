"""Fixtures for the message-parsing tests: where the shared read-only corpus lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS, require


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The development corpus (`../shared/corpus` or $FLUFFYMAIL_CORPUS); skips when absent."""
    require(CORPUS / "README.md")
    return CORPUS.resolve()
