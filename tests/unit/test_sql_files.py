"""Every queue .sql file is used, and every statement name the code executes exists."""

from __future__ import annotations

import re
from pathlib import Path

from fluffymail.queue.store import SQL

QUEUE = Path(__file__).resolve().parents[2] / "src" / "fluffymail" / "queue"


def test_sql_files__all_referenced_and_all_references_exist() -> None:
    code = "\n".join(path.read_text() for path in QUEUE.glob("*.py"))
    literals = set(re.findall(r'"([a-z]+_[a-z_]+)"', code))
    executed = set(re.findall(r'(?:_rows\(|set_state\(|_bulk\(|SQL\[)\s*"([a-z_]+)"', code))
    assert executed <= set(SQL), f"missing .sql files: {executed - set(SQL)}"
    assert set(SQL) <= literals, f"unused .sql files: {set(SQL) - literals}"


def test_sql_files__workflow_statements_all_referenced_and_all_exist() -> None:
    from fluffymail.queue.workflows.store import SQL as WORKFLOW_SQL

    code = (QUEUE / "workflows" / "store.py").read_text()
    executed = set(re.findall(r'(?:_rows\(|SQL\[)\s*"([a-z_]+)"', code))
    assert executed == set(WORKFLOW_SQL), executed ^ set(WORKFLOW_SQL)
