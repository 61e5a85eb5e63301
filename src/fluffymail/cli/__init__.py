"""The `fluffymail` command line: database, worker service, job administration and the demo."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fluffymail import logging as fm_logging
from fluffymail.config import Settings, parse_queue_concurrency
from fluffymail.db import migrate
from fluffymail.errors import FluffyMailError

app = typer.Typer(help="FluffyMail: your mailbox as a relationship CRM.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect and administer background jobs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
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
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@app.callback()
def _setup() -> None:
    config = settings()
    fm_logging.setup(config.log_level, config.log_format)


# -- db --------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (safe to run from several processes at once)."""
    from fluffymail.cli.context import open_context

    async def main() -> None:
        async with open_context(settings()) as ctx, ctx.pool.connection() as conn:
            applied = await migrate.upgrade(conn)
            version = await migrate.current_version(conn)
        console.print(f"applied {len(applied)} migration(s); schema version {version}")

    run(main())


@db_app.command("status")
def db_status() -> None:
    """Show the schema version and pending migrations."""
    from fluffymail.cli.context import open_context

    async def main() -> None:
        async with open_context(settings()) as ctx, ctx.pool.connection() as conn:
            version = await migrate.current_version(conn)
            todo = await migrate.pending(conn)
        console.print(
            f"schema version {version}; pending: {', '.join(f'{m.version:04d}_{m.name}' for m in todo) or 'none'}"
        )

    run(main())


@db_app.command("print-sql")
def db_print_sql() -> None:
    """Print the SQL of pending migrations, for review, without applying it."""
    from fluffymail.cli.context import open_context

    async def main() -> None:
        async with open_context(settings()) as ctx, ctx.pool.connection() as conn:
            for migration in await migrate.pending(conn):
                sys.stdout.write(
                    f"-- {migration.version:04d}_{migration.name}.sql\n{migration.sql}\n"
                )

    run(main())


# -- worker ----------------------------------------------------------------------------------


@app.command()
def worker(
    queues: Annotated[
        str | None, typer.Option(help="NAME:CONCURRENCY,... (default: FLUFFYMAIL_QUEUES)")
    ] = None,
    jobs: Annotated[
        str, typer.Option(help="module:function building the job registry")
    ] = "fluffymail.jobs:build_registry",
) -> None:
    """Run the worker service: process jobs until SIGTERM/SIGINT, then drain gracefully."""
    from fluffymail.cli.context import load_registry_factory, open_context
    from fluffymail.queue import runner

    config = settings()
    concurrency = parse_queue_concurrency(queues) if queues else config.queue_concurrency
    factory = load_registry_factory(jobs)

    async def main() -> None:
        async with open_context(
            config, migrate_first=config.migrate_on_start, name="worker"
        ) as ctx:
            registry = factory(ctx.deps())
            only = set(concurrency) if queues else None
            await runner.run(
                ctx.queue,
                registry,
                concurrency,
                grace=config.shutdown_grace,
                only=only,
                log=ctx.log,
            )

    run(main())


# -- jobs ------------------------------------------------------------------------------------

STATES = ("created", "deferred", "retry", "active", "completed", "cancelled", "failed")


@jobs_app.command("stats")
def jobs_stats(
    queue: Annotated[str | None, typer.Option(help="Only this queue")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Job counts per queue and state."""
    from fluffymail.cli.context import open_context

    async def main() -> dict[str, dict[str, int]]:
        async with open_context(settings()) as ctx:
            stats = await ctx.queue.get_queue_stats(None)
        if queue is not None:
            if queue not in stats:
                raise FluffyMailError(
                    f"unknown queue {queue!r}; known: {', '.join(stats) or 'none'}"
                )
            stats = {queue: stats[queue]}
        return stats  # type: ignore[return-value]

    stats = run(main())
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
    else:
        console.print(stats_table(stats))


def stats_table(stats: dict[str, dict[str, int]]) -> Table:
    table = Table(title="jobs by state")
    table.add_column("queue", no_wrap=True)
    for state in STATES:
        table.add_column(state, justify="right")
    for name, counts in stats.items():
        table.add_row(name, *(str(counts.get(state, 0)) for state in STATES))
    return table


# -- demo ------------------------------------------------------------------------------------


@app.command()
def demo() -> None:
    """Migrate, start the worker service and run a small demo workload through it."""
    from fluffymail import demo as demo_module

    run(demo_module.main(settings(), console))


from fluffymail.cli import importer  # noqa: E402  (mail import, issue 4)

app.command("import")(importer.import_command)


def main() -> None:
    app()
