"""The layering rules: the queue is a library that knows nothing of the CRM, and so on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "fluffymail"
LEAVES = {
    "fluffymail.config",
    "fluffymail.errors",
    "fluffymail.logging",
    "fluffymail.clock",
    "fluffymail.db",
}
RULES = {
    # package: FluffyMail modules it may import besides itself and the leaves
    "queue": set(),
    "db": set(),
    "crm": set(),
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("fluffymail")}


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    allowed = {f"fluffymail.{package}", *LEAVES, *RULES[package]}
    for path in (SRC / package).rglob("*.py"):
        for name in imports(path):
            assert any(name == ok or name.startswith(ok + ".") for ok in allowed), (
                f"{path.relative_to(SRC)} imports {name}, outside its layer"
            )
