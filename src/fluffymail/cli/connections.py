"""`fluffymail connections ...`: a user's mail connections from the command line: list them, add or
reconnect an IMAP account (a test login first, as the web app does), and ask for a sync."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from fluffymail.cli import user_lookup
from fluffymail.cli.common import console, run, settings
from fluffymail.cli.context import Context, open_context

app = typer.Typer(
    help="Mail connections: list, add or reconnect IMAP, sync now, who becomes a contact.",
    no_args_is_help=True,
)

UserOption = Annotated[str, typer.Option("--user", help="The user's email address")]


@app.command("list")
def list_command(
    user: UserOption,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """The user's connections and their state (waiting, ok, syncing, stalled, failed,
    needs_reauth, paused, deleting)."""
    import json

    from fluffymail.web.services import connections as service

    async def main() -> None:
        async with open_context(settings(), name="cli") as ctx:
            views = await service.list_connections(ctx.pool, await _user_id(ctx, user))
        for view in views:
            if as_json:
                console.print_json(json.dumps(_summary(view), default=str))
            else:
                synced = (
                    view.last_synced_on.isoformat(" ", "minutes")
                    if view.last_synced_on
                    else "never"
                )
                problem = f"  {view.last_error}" if view.last_error else ""
                console.print(
                    f"{view.id}\t{view.kind}\t{view.label}\t{view.state}\tsynced {synced}"
                    f"\tcontacts from: {view.contact_policy}{problem}"
                )

    run(main())


@app.command("imap")
def imap_command(
    user: UserOption,
    host: Annotated[str, typer.Option(help="IMAP server host name")],
    username: Annotated[str, typer.Option(help="IMAP login name")],
    port: Annotated[int, typer.Option(min=1, max=65535, help="IMAP port")] = 993,
    security: Annotated[
        str, typer.Option(help="ssl (port 993), starttls or plain (port 143)")
    ] = "ssl",
    folder: Annotated[
        list[str] | None, typer.Option(help="Sync only this folder (repeat for several)")
    ] = None,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Add an IMAP account, or give an existing one its new password.

    The server is signed in to first; then the connection is saved (encrypted) and synced now
    and every 15 minutes. A connection that needed new credentials syncs again from here on.
    """
    from fluffymail.web.services import connections as service

    if security not in {"ssl", "starttls", "plain"}:
        raise typer.BadParameter("--security must be ssl, starttls or plain")
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("IMAP password", hide_input=True)
    )
    account = service.ImapAccount(
        host=host, port=port, security=security, username=username, password=password,
        folders=tuple(folder) if folder else None, display_name=name,
    )  # fmt: skip

    async def main() -> None:
        config = settings()
        tests = service.connection_tests(config)
        try:
            async with open_context(config, migrate_first=True, name="cli") as ctx:
                user_id = await _user_id(ctx, user)
                created = await service.create_imap(
                    ctx.pool, ctx.queue, config, user_id, account, tests=tests
                )
        finally:
            tests.close()
        verb = "added" if created.created else "updated"
        view = created.connection
        console.print(f"connection {view.id} ({view.label}) {verb}; state {view.state}")

    run(main())


@app.command("sync")
def sync_command(
    connection_id: Annotated[int, typer.Argument(help="The connection's id (see `list`)")],
    user: UserOption,
) -> None:
    """Sync a connection now (ahead of the background syncs), as "Sync now" does."""
    from fluffymail.web.services import connections as service

    async def main() -> None:
        async with open_context(settings(), name="cli") as ctx:
            request = await service.request_sync(
                ctx.pool, ctx.queue, await _user_id(ctx, user), connection_id
            )
        queued = f"job {request.job_id}" if request.job_id else "the sync already queued"
        console.print(f"connection {connection_id}: {queued} will run next")

    run(main())


@app.command("policy")
def policy_command(
    connection_id: Annotated[int, typer.Argument(help="The connection's id (see `list`)")],
    user: UserOption,
    set_to: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="sent: people you write to become contacts (default); sent_and_received: also"
            " people who write to you; none: no one. Applied to mail already imported too",
        ),
    ] = None,
) -> None:
    """Show (or change with --set) who becomes a contact from this connection's mail."""
    from fluffymail.crm.contacts.policy import DESCRIPTIONS
    from fluffymail.web.services import contact_policy as service

    async def main() -> None:
        async with open_context(settings(), name="cli") as ctx:
            user_id = await _user_id(ctx, user)
            if set_to is not None:
                change = await service.set_policy(
                    ctx.pool, ctx.queue, user_id, connection_id, service.parse_policy(set_to)
                )
                applied = (
                    f"job {change.job_id} applies it to the mail already imported"
                    if change.job_id
                    else "nothing to re-apply"
                )
                console.print(f"connection {connection_id}: policy {set_to}; {applied}")
            explained = await service.explain(ctx.pool, user_id, connection_id)
        console.print(
            f"policy: {explained.policy} ({DESCRIPTIONS[explained.policy]})", markup=False
        )
        console.print(explained.sentence, markup=False)

    run(main())


@app.command("people")
def people_command(
    connection_id: Annotated[int, typer.Argument(help="The connection's id (see `list`)")],
    user: UserOption,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many to show")] = 50,
    add: Annotated[
        list[int] | None,
        typer.Option("--add", help="Add this person (contact id) as a contact; repeat for several"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """People who wrote to USER through this connection and are not contacts (most messages
    first), with the explanation; --add makes them contacts, whatever the policy."""
    import json

    from fluffymail.web.services import contact_policy as service

    async def main() -> None:
        async with open_context(settings(), name="cli") as ctx:
            user_id = await _user_id(ctx, user)
            if add:
                added = await service.add_people(
                    ctx.pool, ctx.queue, ctx.settings, user_id, connection_id, add
                )
                console.print(f"added {len(added)} as contacts: {', '.join(map(str, added))}")
            found = await service.people(ctx.pool, user_id, connection_id, limit=limit, offset=0)
        if not as_json:
            console.print(found.explanation.sentence, markup=False)
        for p in found.page.items:
            if as_json:
                row = {"contact_id": p.contact_id, "address": p.address, "name": p.name,
                       "messages": p.messages, "last_on": p.last_on}  # fmt: skip
                console.print_json(json.dumps(row, default=str))
            else:
                console.print(f"{p.contact_id}\t{p.messages}\t{p.address}\t{p.name}", markup=False)
        if not as_json and found.page.total > len(found.page.items):
            console.print(f"… {found.page.total - len(found.page.items)} more (--limit)")

    run(main())


async def _user_id(ctx: Context, email: str) -> int:
    async with ctx.pool.connection() as conn:
        return (await user_lookup.require_user(conn, email)).id


def _summary(view: Any) -> dict[str, Any]:
    return {
        "id": view.id,
        "kind": view.kind,
        "label": view.label,
        "state": view.state,
        "last_error": view.last_error,
        "last_synced_on": view.last_synced_on,
        "contact_policy": view.contact_policy,
    }
