"""What every command shares: the console, settings from the environment, running a coroutine."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from fluffymail.config import Settings
from fluffymail.errors import FluffyMailError

console = Console(width=None if sys.stdout.isatty() else 110)
# Errors go to stderr, so that `--json` output and pipes carry only results, and are never
# wrapped: the command an error suggests stays one line to copy.
errors = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a command's coroutine, turning FluffyMail errors into a clear message and exit code 1."""
    try:
        return asyncio.run(coro)
    except FluffyMailError as exc:
        fail(exc)


def require_secret_key(config: Settings) -> None:
    """Stop a production process that lacks FLUFFYMAIL_SECRET_KEY, saying how to set one."""
    from fluffymail.crm import secrets

    try:
        secrets.require_key(config)
    except FluffyMailError as exc:
        fail(exc)


def fail(exc: FluffyMailError) -> NoReturn:
    """Print `exc` as one `error:` line on stderr and exit 1."""
    errors.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    raise typer.Exit(1) from None
