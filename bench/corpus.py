"""Where the bench and evaluation scripts find the real-mail corpus, and what they say without it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def root() -> Path:
    """$FLUFFYMAIL_CORPUS, else the `shared/corpus` folder beside this checkout."""
    configured = os.environ.get("FLUFFYMAIL_CORPUS")
    return Path(configured) if configured else DEFAULT


def require(part: str = "ground_truth") -> Path:
    """The corpus root, or exit with where it was looked for and how to point elsewhere."""
    corpus = root()
    if not (corpus / part).exists():
        where = "FLUFFYMAIL_CORPUS" if os.environ.get("FLUFFYMAIL_CORPUS") else "the default place"
        sys.exit(
            f"The real-mail corpus (public Enron and SpamAssassin mail with its ground truth) "
            f"was not found: {corpus / part} does not exist ({where}).\n"
            f"By default the scripts look for a shared/corpus folder beside this checkout; "
            f"point them at yours with\n    FLUFFYMAIL_CORPUS=/path/to/corpus {sys.argv[0]}"
        )
    return corpus


def enron() -> Path:
    """The Enron part of the corpus (a default for the import benchmarks' PATH argument)."""
    return root() / "enron"
