"""Corpus access for the contacts tests: read in place, skip cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS, require


@pytest.fixture(scope="session")
def corpus() -> Path:
    require(CORPUS / "ground_truth")
    return CORPUS
