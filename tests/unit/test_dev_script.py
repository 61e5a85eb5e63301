"""`./dev`, the developer entry point: its help lists every task it runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_dev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "dev"), *args], capture_output=True, text=True, timeout=30
    )


def test_help__lists_every_task_and_nothing_else() -> None:
    text = (REPO / "dev").read_text()
    tasks = set(re.findall(r"^  ([a-z]+)\)", text, re.M))
    assert {"setup", "demo", "test", "bench", "run", "lint", "image"} <= tasks
    result = run_dev()
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^  \./dev ([a-z]+)", result.stdout, re.M))
    assert listed == tasks, f"help lists {sorted(listed)}, tasks are {sorted(tasks)}"
    assert all(line.startswith(("FluffyMail", " ")) for line in result.stdout.splitlines()), (
        result.stdout
    )


def test_unknown_task__help_on_stderr_and_status_2() -> None:
    result = run_dev("no-such-task")
    assert result.returncode == 2
    assert "./dev test" in result.stderr and not result.stdout
