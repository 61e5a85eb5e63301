"""Every queue .sql file is used, and every statement name the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from fluffymail.queue.store import SQL

QUEUE = Path(__file__).resolve().parents[2] / "src" / "fluffymail" / "queue"


def test_sql_files__all_referenced_and_all_references_exist() -> None:
    code = "\n".join(path.read_text() for path in QUEUE.glob("*.py"))
    referenced = set(re.findall(r'(?:_rows\(|set_state\(|SQL\[|query = |else )"([a-z]+_[a-z_]+)"', code))
    assert referenced <= set(SQL), f"missing .sql files: {referenced - set(SQL)}"
    assert set(SQL) <= referenced, f"unused .sql files: {set(SQL) - referenced}"
