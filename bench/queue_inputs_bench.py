"""What checking a job's input costs before any SQL (issue 16): option parsing plus JSON
encoding per `send` / `insert`, in microseconds, best of 7. No database needed.

    .venv/bin/python bench/queue_inputs_bench.py
    PYTHONPATH=<older checkout>/src .venv/bin/python bench/queue_inputs_bench.py  # to compare
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from typing import Any

from fluffymail.queue import options, store

SMALL = {"connection_id": 7, "email_id": 123456}
TEXT = {"subject": "Réunion – 😀 " * 20, "body": "x" * 800, "to": ["a@b.c"] * 5}  # 2.5 kB
OPTIONS = {"singleton_key": "user-1", "priority": 5, "start_after": 30}


def send_like(data: Any, opts: dict[str, Any]) -> str:
    record = options.job_record(data, opts)
    return store.dumps(record.get("data"))


def insert_like(items: list[Any], opts: dict[str, Any]) -> str:
    return store.dumps([options.job_record(item, opts) for item in items])


CASES: dict[str, tuple[Callable[[], Any], int]] = {
    "send, small data": (lambda: send_like(SMALL, {}), 20_000),
    "send, 2.5 kB text with emoji": (lambda: send_like(TEXT, {}), 20_000),
    "send, small data + 3 options": (lambda: send_like(SMALL, OPTIONS), 20_000),
    "insert, 1,000 small jobs": (lambda: insert_like([SMALL] * 1000, {}), 20),
}


def main() -> None:
    results = {}
    for name, (call, number) in CASES.items():
        best = min(timeit.repeat(call, number=number, repeat=7)) / number
        results[name] = round(best * 1e6, 2)
    print(json.dumps({"microseconds_per_call": results}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
