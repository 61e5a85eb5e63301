"""Where the tests find the real-mail corpus, and the one reason they give when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FLUFFYMAIL_CORPUS", REPO.parent / "shared" / "corpus"))


def missing(folder: Path) -> str:
    """The skip reason for a corpus folder that is not there (the same words for every test)."""
    if not CORPUS.is_dir():
        return (
            f"the real-mail test corpus (public Enron and SpamAssassin mail with ground truth) "
            f"is not at {CORPUS}, where the tests look for it beside the checkout; set "
            "FLUFFYMAIL_CORPUS to its folder. Only the tests that read real mail skip"
        )
    return f"the test corpus at {CORPUS} has no {folder.relative_to(CORPUS)}"


def require(folder: Path) -> Path:
    """`folder` (inside the corpus) if it exists, else skip the test with the reason above."""
    if not folder.exists():
        pytest.skip(missing(folder))
    return folder


def skip_without(folder: Path) -> pytest.MarkDecorator:
    """A skipif mark for tests that read `folder` of the corpus."""
    return pytest.mark.skipif(not folder.exists(), reason=missing(folder))
