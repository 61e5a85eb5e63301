"""The `fluffymail` command line: database, worker service, job administration, import and demo."""

from __future__ import annotations

from typing import Annotated

import typer

from fluffymail import logging as fm_logging
from fluffymail.cli import connections, contacts, db, importer, jobs, secrets, serverless
from fluffymail.cli.common import (
    EXIT_INTERRUPTED,
    console,
    errors,
    exit_code,
    run,
    settings,
    stop_on_sigterm,
)
from fluffymail.cli.web import users, web
from fluffymail.cli.worker import worker

app = typer.Typer(help="FluffyMail: your mailbox as a relationship CRM.", no_args_is_help=True)
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.add_typer(contacts.app, name="contacts")
app.add_typer(connections.app, name="connections")
app.command()(worker)
app.command("import")(importer.import_command)
app.command()(web)
app.add_typer(users, name="users")
app.add_typer(secrets.app, name="secrets")
app.add_typer(serverless.app, name="serverless")


@app.callback()
def _setup() -> None:
    config = settings()
    fm_logging.setup(config.log_level, config.log_format)


@app.command()
def demo(
    serve: Annotated[
        bool, typer.Option(help="Serve the web app when the mail is processed")
    ] = True,
    host: Annotated[str, typer.Option(help="Web app interface")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Web app port")] = 8000,
    queue_tour: Annotated[
        bool, typer.Option("--queue-tour", help="Only tour the job queue")
    ] = False,
) -> None:
    """The whole product on a sample mailbox: import, contacts, relationships, then the web app."""
    if queue_tour:
        from fluffymail.demo import queue_tour as tour

        run(tour.main(settings(), console))
        return
    from fluffymail.demo import product

    options = product.DemoOptions(serve=serve, host=host, port=port)
    try:
        run(product.main(settings(), console, options))
    except product.Interrupted:
        errors.print("interrupted; run the demo again to go on (nothing is imported twice)")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def main() -> None:
    terminated = stop_on_sigterm()
    try:
        app()
    except SystemExit as exc:
        raise SystemExit(exit_code(exc.code, terminated())) from None
