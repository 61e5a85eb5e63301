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
    console.print(f"[red]error:[/red] {escape(str(exc))}")
    raise typer.Exit(1) from None
