"""`fluffymail db ...`: apply, inspect and preview schema migrations."""

from __future__ import annotations

import sys

import typer

from fluffymail.cli.common import console, run, settings
from fluffymail.cli.context import open_context
from fluffymail.db import migrate
from fluffymail.db.pool import migration_connection

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations (safe to run from several processes at once)."""

    async def main() -> None:
        config = settings()
        async with (
            open_context(config) as ctx,
            migration_connection(ctx.pool, config.database_direct_url) as conn,
        ):
            applied = await migrate.upgrade(conn)
            version = await migrate.current_version(conn)
        console.print(f"applied {len(applied)} migration(s); schema version {version}")

    run(main())


@app.command("status")
def status() -> None:
    """Show the schema version and pending migrations."""

    async def main() -> None:
        async with open_context(settings()) as ctx, ctx.pool.connection() as conn:
            version = await migrate.current_version(conn)
            todo = await migrate.pending(conn)
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in todo) or "none"
        console.print(f"schema version {version}; pending: {names}")

    run(main())


@app.command("print-sql")
def print_sql() -> None:
    """Print the SQL of pending migrations, for review, without applying it."""

    async def main() -> None:
        async with open_context(settings()) as ctx, ctx.pool.connection() as conn:
            for migration in await migrate.pending(conn):
                sys.stdout.write(
                    f"-- {migration.version:04d}_{migration.name}.sql\n{migration.sql}\n"
                )

    run(main())
