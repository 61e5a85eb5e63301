"""No log call passes a LogRecord attribute in `extra`: logging raises KeyError for it, but
only when that level is enabled, so a test run at WARNING would never see it."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "fluffymail"
RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def test_log_extras__never_overwrite_a_log_record_attribute() -> None:
    clashes = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                    clashes += [
                        f"{path.relative_to(SRC)}:{node.lineno} {key.value!r}"
                        for key in keyword.value.keys
                        if isinstance(key, ast.Constant) and key.value in RESERVED
                    ]
    assert clashes == []
