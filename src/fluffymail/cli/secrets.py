"""`fluffymail secrets ...`: make a secret key; re-encrypt stored credentials after a rotation."""

from __future__ import annotations

from typing import Annotated

import typer

from fluffymail.cli.common import console, run, settings
from fluffymail.errors import FluffyMailError

app = typer.Typer(
    help="The key encrypting stored mail credentials (FLUFFYMAIL_SECRET_KEY).",
    no_args_is_help=True,
)


class UnreadableCredentials(FluffyMailError):
    """Some stored credentials could not be decrypted with any configured key."""


@app.command("generate-key")
def generate_key() -> None:
    """Print a new random key for FLUFFYMAIL_SECRET_KEY (keep it secret; never commit it)."""
    from fluffymail.crm import secrets

    typer.echo(secrets.generate_key())


@app.command("rotate")
def rotate(
    batch_size: Annotated[
        int, typer.Option(min=1, help="Connections re-encrypted per statement")
    ] = 500,
) -> None:
    """Re-encrypt every stored credential with FLUFFYMAIL_SECRET_KEY (safe to run again).

    To rotate: move the current key to FLUFFYMAIL_OLD_SECRET_KEYS, set a new
    FLUFFYMAIL_SECRET_KEY, restart the web app and the workers, run this, then remove the
    old key once it reports nothing unreadable.
    """
    from fluffymail.cli.context import open_context
    from fluffymail.crm import secrets
    from fluffymail.crm.mail import credentials
    from fluffymail.crm.webhooks import repo as webhooks_repo

    config = settings()

    async def main() -> None:
        box = secrets.open_box(config)
        async with open_context(config, name="cli") as ctx, ctx.pool.connection() as conn:
            done = await credentials.rotate(conn, box, batch_size=batch_size)
            hooks, unread_hooks = await webhooks_repo.rotate_secrets(conn, box)
        console.print(
            f"webhook signing secrets re-encrypted {hooks}, unreadable {len(unread_hooks)}"
        )
        console.print(
            f"re-encrypted {done.rotated}, already under the current key {done.current}, "
            f"changed meanwhile {done.changed}, unreadable {len(done.unreadable)}"
        )
        if done.changed:
            console.print("some credentials changed while this ran: run it again to be sure")
        if done.unreadable:
            ids = ", ".join(map(str, done.unreadable[:20]))
            more = " ..." if len(done.unreadable) > 20 else ""
            raise UnreadableCredentials(
                f"no configured key decrypts the credentials of connection(s) {ids}{more}: "
                "add the key they were written with to FLUFFYMAIL_OLD_SECRET_KEYS and run "
                "again, or have their owners reconnect them"
            )

    run(main())
