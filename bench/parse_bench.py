"""Parse benchmark: stdlib compat32 structural parsing vs fluffymail's parse_message.

Usage: .venv/bin/python bench/parse_bench.py [PATH]   (default: ../shared/corpus/enron)
Prints JSON. Messages are read into memory first, so only parsing is timed (one core).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import corpus
from fluffymail.crm.messages.parse import parse_message
from fluffymail.integrations.mail.files import iter_source

DEFAULT_PATH = corpus.enron()


def _time(
    label: str, func: Callable[[bytes], Any], raws: list[bytes], rounds: int
) -> dict[str, Any]:
    """Best of `rounds` passes over all messages (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for raw in raws:
            func(raw)
        best = min(best, time.perf_counter() - started)
    return {
        "parser": label,
        "messages": len(raws),
        "seconds": round(best, 3),
        "msgs_per_s": round(len(raws) / best) if best else None,
    }


def main() -> None:
    """Load the messages under PATH, time both parsers, print the JSON report."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    cli.add_argument("--rounds", type=int, default=3, help="passes per parser; the best counts")
    args = cli.parse_args()
    raws = [mail.raw for mail in iter_source(args.path)]
    stdlib = BytesParser(policy=compat32)
    baseline = _time(
        "email.parser.BytesParser(policy=compat32).parsebytes", stdlib.parsebytes, raws, args.rounds
    )
    ours = _time("fluffymail.crm.messages.parse_message", parse_message, raws, args.rounds)
    report = {
        "path": str(args.path.resolve()),
        "messages": len(raws),
        "megabytes": round(sum(map(len, raws)) / 2**20, 1),
        "compat32": baseline,
        "parse_message": ours,
        "ratio_parse_message_to_compat32": round(baseline["seconds"] / ours["seconds"], 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
