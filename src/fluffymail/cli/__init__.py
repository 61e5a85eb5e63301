"""The `fluffymail` command line: database, worker service, job administration, import and demo."""

from __future__ import annotations

import typer

from fluffymail import logging as fm_logging
from fluffymail.cli import db, importer, jobs
from fluffymail.cli.common import console, run, settings
from fluffymail.cli.web import users, web
from fluffymail.cli.worker import worker

app = typer.Typer(help="FluffyMail: your mailbox as a relationship CRM.", no_args_is_help=True)
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.command()(worker)
app.command("import")(importer.import_command)
app.command()(web)
app.add_typer(users, name="users")


@app.callback()
def _setup() -> None:
    config = settings()
    fm_logging.setup(config.log_level, config.log_format)


@app.command()
def demo() -> None:
    """Migrate, start the worker service and run a small demo workload through it."""
    from fluffymail import demo as demo_module

    run(demo_module.main(settings(), console))


def main() -> None:
    app()
