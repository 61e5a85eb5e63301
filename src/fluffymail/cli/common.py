"""What every command shares: the console, settings from the environment, running a coroutine."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from types import FrameType
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
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as typer and the shells say
EXIT_TERMINATED = 143  # SIGTERM: 128 + SIGTERM


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


def stop_on_sigterm() -> Callable[[], bool]:
    """Make SIGTERM stop a command as Ctrl-C does, and return whether one came.

    Python's default for SIGTERM ends the process on the spot: no `finally`, no `atexit`.
    The embedded PostgreSQL (pgserver) counts its users in a file and the last one to leave
    stops it at exit; a command ended that way stayed on the list for good, so the server was
    never stopped again. Ctrl-C unwinds instead: asyncio cancels the command's task, its
    pool closes, the import keeps the batches it committed, atexit stops the server.
    Commands that handle SIGTERM themselves (the worker's graceful drain) replace this while
    they run."""
    came: list[int] = []

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        came.append(signum)
        on_sigint = signal.getsignal(signal.SIGINT)
        if callable(on_sigint):  # asyncio's (cancels the main task) or KeyboardInterrupt
            on_sigint(signal.SIGINT, frame)
            return
        raise KeyboardInterrupt  # SIGINT ignored (started in the background)

    signal.signal(signal.SIGTERM, on_sigterm)
    return lambda: bool(came)


def exit_code(code: object, terminated: bool) -> object:
    """The process's exit code: a command stopped by SIGTERM exits 143, not Ctrl-C's 130."""
    return EXIT_TERMINATED if terminated and code == EXIT_INTERRUPTED else code
