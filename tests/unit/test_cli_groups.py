"""Every command group of the CLI answers a bare call with its help, never "Missing command"."""

from __future__ import annotations

import pytest
from typer.main import get_group
from typer.testing import CliRunner

from fluffymail.cli import app

GROUPS = sorted(
    name for name, command in get_group(app).commands.items() if hasattr(command, "commands")
)


def test_the_cli_has_command_groups() -> None:
    assert {"connections", "contacts", "jobs", "serverless"} <= set(GROUPS)


@pytest.mark.parametrize("group", GROUPS)
def test_a_group_called_bare_shows_its_help(group: str) -> None:
    result = CliRunner().invoke(app, [group])
    assert "Missing command" not in result.output
    assert "Usage:" in result.output and "Commands" in result.output
