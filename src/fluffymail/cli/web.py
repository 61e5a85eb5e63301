"""`fluffymail web` (serve the web app) and `fluffymail users` (accounts and API tokens)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from fluffymail.cli import user_lookup
from fluffymail.cli.common import console, fail, require_secret_key, run, settings
from fluffymail.cli.context import open_context
from fluffymail.errors import FluffyMailError

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from fluffymail.web.services.accounts import Account

users = typer.Typer(
    help="Web app accounts: create users, issue, list and revoke API tokens.", no_args_is_help=True
)


def web(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    reload: Annotated[
        bool, typer.Option(help="Restart when the code changes (development)")
    ] = False,
) -> None:
    """Serve the web app (UI and JSON API; docs at /docs). Workers run separately: `fluffymail worker`."""
    import uvicorn

    from fluffymail.web import security

    config = settings()
    require_secret_key(config)
    try:
        security.allowed_hosts(config)
    except FluffyMailError as exc:
        fail(exc)
    console.print(f"FluffyMail web app on [bold]http://{host}:{port}/[/bold] (API docs at /docs)")
    if reload:  # the reloader re-imports the app in a child process, so it needs a factory path
        uvicorn.run(
            "fluffymail.cli.web:app_factory",
            factory=True,
            host=host,
            port=port,
            reload=True,
            log_level=config.log_level.lower(),
        )
        return
    from fluffymail.web.app import create_app

    # Finish in-flight requests within the same grace the workers get, and trust the platform's
    # proxy (X-Forwarded-Proto/For) only from the addresses configured.
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level=config.log_level.lower(),
        timeout_graceful_shutdown=int(config.shutdown_grace),
        proxy_headers=True,
        forwarded_allow_ips=config.forwarded_allow_ips,
    )


def app_factory():
    from fluffymail.web.app import create_app

    return create_app(settings())


@users.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="The user's email address (their login)")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters"
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    admin: Annotated[
        bool, typer.Option("--admin", help="May use the jobs dashboard and API")
    ] = False,
) -> None:
    """Create a user who can log in (or reset an existing user's password and admin flag)."""
    from fluffymail.web.services import accounts

    async def main() -> None:
        async with open_context(settings(), migrate_first=True, name="cli") as ctx:
            account, created = await accounts.create_user(
                ctx.pool, email, password, name=name, is_admin=admin
            )
        verb = "created" if created else "updated"
        role = "admin" if account.is_admin else "user"
        console.print(f"{role} {account.email} {verb} (id {account.id})")

    run(main())


@users.command("token")
def token(
    email: Annotated[str | None, typer.Argument(help="Whose token (not with --revoke)")] = None,
    name: Annotated[
        str, typer.Option(help="What the token is for (replaces one of that name)")
    ] = "cli",
    expires_days: Annotated[
        float | None,
        typer.Option(
            "--expires-days", min=0.001, help="Valid this many days (default: until revoked)"
        ),
    ] = None,
    revoke: Annotated[
        int | None, typer.Option("--revoke", min=1, metavar="ID", help="Revoke token ID instead")
    ] = None,
) -> None:
    """Issue an API token (`Authorization: Bearer <token>`; shown only once), or revoke one."""
    from fluffymail.web.services import accounts

    if (email is None) == (revoke is None):
        raise typer.BadParameter("give an EMAIL to issue a token, or --revoke ID to revoke one")

    async def main() -> None:
        async with open_context(settings(), migrate_first=True, name="cli") as ctx:
            if revoke is not None:
                revoked = await accounts.revoke_api_token(ctx.pool, revoke, account_id=None)
                if revoked is None:
                    raise accounts.AccountError(f"no API token with id {revoke}")
                console.print(f"token {revoke} ({revoked}) revoked")
                return
            assert email is not None
            account = await _account(ctx.pool, email)
            lifetime = timedelta(days=expires_days) if expires_days else None
            token = await accounts.create_api_token(ctx.pool, account.id, name, lifetime=lifetime)
            console.print(token, soft_wrap=True, highlight=False)

    run(main())


@users.command("tokens")
def tokens(email: Annotated[str, typer.Argument(help="Whose tokens")]) -> None:
    """List a user's API tokens: id, name, created, last used, expiry (never the tokens)."""
    from fluffymail.web.services import accounts

    async def main() -> None:
        async with open_context(settings(), migrate_first=True, name="cli") as ctx:
            account = await _account(ctx.pool, email)
            listed = await accounts.list_api_tokens(ctx.pool, account.id)
        for t in listed:  # tab-separated, for scripts
            expiry = "never" if t.expires_on is None else f"{t.expires_on:%Y-%m-%d %H:%M}"
            used = "never" if t.last_used_on is None else f"{t.last_used_on:%Y-%m-%d %H:%M}"
            state = " (expired)" if t.expired else ""
            typer.echo(
                f"{t.id}\t{t.name}\tcreated {t.created_on:%Y-%m-%d %H:%M}\tlast used {used}"
                f"\texpires {expiry}{state}"
            )
        if not listed:
            console.print(f"{account.email} has no API tokens")

    run(main())


async def _account(pool: AsyncConnectionPool, email: str) -> Account:
    from fluffymail.web.services import accounts

    account = await accounts.find_account(pool, email)
    if account is None:
        start = f"create one with `fluffymail users create {email.strip().lower()}`"
        async with pool.connection() as conn:
            raise await user_lookup.unknown(conn, email, start=start)
    return account
