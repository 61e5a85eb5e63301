"""The quickstart: the whole product on a sample mailbox, from import to ranked contacts in the web app.

Migrates, creates the demo user, writes the sample mailbox (`demo.mailbox`) and connects it as
an mbox connection, enqueues `sync-emails` and runs the real worker service until the demo
user's jobs are done (sync → extract-contacts → enrich-contact → analyze-relationships; other
users' jobs in the same database are not waited for), showing progress, prints the top
relationships, then serves the web app with the workers still running, until Ctrl-C. Ctrl-C while the mail is processed stops it too (`Interrupted`): the
workers finish what they run, and the next demo run goes on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.db.sql import load_sql
from fluffymail.demo import followups as demo_followups
from fluffymail.demo import mailbox
from fluffymail.errors import ConfigError, FluffyMailError
from fluffymail.jobs import build_registry, dispatch_webhooks, fairness, sync_emails
from fluffymail.queue import Job, JobQueue, JobState, runner

DEMO_PASSWORD = "fluffymail-demo"
PENDING = [JobState.CREATED, JobState.RETRY, JobState.ACTIVE]  # waiting or running
LOOKED_AT = 500  # jobs one look reads per queue, newest first (the demo's are recent)
SQL = load_sql("fluffymail.demo")
log = logging.getLogger("fluffymail.demo")


class Interrupted(Exception):
    """Stopped (SIGINT, SIGTERM) before the sample mailbox was processed."""


class NotDrained(FluffyMailError):
    """The demo's jobs did not finish in time."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    serve: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    within: float = 300.0  # seconds to wait for the queues to drain


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    messages: int
    contacts: int
    scored: int
    pending: dict[str, int]

    @property
    def settled(self) -> bool:
        return not any(self.pending.values())


async def main(settings: Settings, console: Console, options: DemoOptions) -> None:
    from fluffymail.cli.context import check_worker_queues, open_context
    from fluffymail.web.services import accounts

    for noisy in ("fluffymail.queue", "fluffymail.worker", "fluffymail.jobs", "fluffymail.demo"):
        logging.getLogger(noisy).setLevel(logging.ERROR)  # the narration says it better
    console.print("[bold]FluffyMail[/bold]: your mailbox as a relationship CRM")
    if options.serve:
        check_port_free(options.host, options.port)  # before the import, not after it
    # A burst of new mail normally waits a little before enrichment and analysis, so one run
    # covers it; the demo's single burst should not.
    settings = settings.model_copy(update={"enrich_debounce": 1, "analyze_debounce": 1})
    async with open_context(settings, migrate_first=True, name="demo") as ctx:
        where = (
            "DATABASE_URL"
            if settings.database_url
            else f"embedded PostgreSQL in {settings.data_dir}"
        )
        console.print(f"database: {where}; schema migrated")
        registry = build_registry(ctx.deps())
        check_worker_queues(registry, settings, ())
        account, _ = await accounts.create_user(
            ctx.pool, mailbox.OWNER.email, DEMO_PASSWORD, name=mailbox.OWNER.name, is_admin=True
        )
        path, count = sample_mailbox(settings.data_dir)
        console.print(f"sample mailbox: {count} invented messages in {path}")
        # Follow-up reminders wait for their due time by design, and the webhooks' dispatch
        # runs every 10 s (for webhooks added in the served app): not part of "drained".
        queues = {entry.name for entry in registry} - {
            demo_followups.REMINDERS,
            dispatch_webhooks.QUEUE,
        }
        await runner.prepare(ctx.queue, registry)
        await dispatch_webhooks.install_schedule(ctx.queue)
        job_id = await connect_and_sync(ctx.pool, ctx.queue, account.id, path)
        console.print(
            f"connected it as an mbox connection; sync job #{job_id} queued"
            if job_id
            else "connected it as an mbox connection; its sync is already queued"
        )
        stop = asyncio.Event()
        workers = asyncio.create_task(
            runner.run(
                ctx.queue,
                registry,
                settings.queue_concurrency,
                grace=settings.shutdown_grace,
                stop=stop,
                log=log,
            )
        )
        try:
            await watch(
                ctx.pool, ctx.queue, account.id, queues, console, within=options.within, stop=stop
            )
            console.print()
            console.print(await top_table(ctx.pool, account.id))
            await demo_followups.set_up(ctx.pool, ctx.queue, account.id)
            console.print(await demo_followups.due_table(ctx.pool, account.id))
            if options.serve:
                await serve(settings, options, stop, console)
        except Interrupted:
            console.print(
                f"stopping: the jobs running now get up to {settings.shutdown_grace:g} s to finish"
            )
            raise
        finally:
            stop.set()
            await workers


def check_port_free(host: str, port: int) -> None:
    """Raises ConfigError when the web app could not listen on (host, port)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot serve the web app on {host}:{port} ({exc.strerror}): "
                "pass another --port, or --no-serve"
            ) from None


def sample_mailbox(data_dir: Path) -> tuple[Path, int]:
    """The demo's mbox under the data dir, written on first use and reused after (imports are
    idempotent, so a second demo run adds nothing)."""
    path = data_dir / "demo" / "sample-mailbox.mbox"
    if path.exists():
        with path.open("rb") as f:
            return path, sum(1 for line in f if line.startswith(b"From "))
    return path, mailbox.write_mbox(path, datetime.now(UTC))


async def connect_and_sync(pool: Any, queue: JobQueue, user_id: int, path: Path) -> int | None:
    async with pool.connection() as conn, conn.transaction():
        connection, _ = await mail_repo.upsert_connection(
            conn,
            user_id=user_id,
            kind=ConnectionKind.MBOX,
            source=str(path),
            display_name="Sample mailbox",
        )
        args = sync_emails.Args(connection_id=connection.id, user_id=user_id)
        return await sync_emails.enqueue(queue, args, conn=conn)


async def progress(pool: Any, queue: JobQueue, user_id: int, queues: set[str]) -> Progress:
    pending = await own_jobs(queue, user_id, queues)
    async with pool.connection() as conn:
        row = await (await conn.execute(SQL["demo_counts"], {"user_id": user_id})).fetchone()
    messages, contacts, scored = row or (0, 0, 0)
    return Progress(messages=messages, contacts=contacts, scored=scored, pending=pending)


async def own_jobs(queue: JobQueue, user_id: int, queues: set[str]) -> dict[str, int]:
    """The demo user's jobs waiting or running, per queue of `queues`: those of the user's
    fair group (extraction, enrichment, summaries, search rows) and those whose payload names
    the user (its sync, analyses, follow-ups). Other users of the same database are not the
    demo's work: its workers may run their jobs too, but it never waits for them (a job of
    theirs due in an hour held the demo until it gave up)."""
    grouped = await queue.find_jobs(
        group_key=fairness.user_group(user_id), states=PENDING, limit=LOOKED_AT
    )
    named = [
        job
        for name in sorted(queues)
        for job in await queue.find_jobs(name=name, states=PENDING, limit=LOOKED_AT)
    ]
    mine = {job.id: job.name for job in (*grouped, *named) if _mine(job, user_id)}
    return {name: sum(1 for n in mine.values() if n == name) for name in queues}


def _mine(job: Job, user_id: int) -> bool:
    if job.group_key == fairness.user_group(user_id):
        return True
    return isinstance(job.data, dict) and job.data.get("user_id") == user_id


def render(now: Progress, seconds: float) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_row(
        f"[bold]{seconds:5.1f} s[/bold]",
        f"messages [bold]{now.messages}[/bold]",
        f"contacts [bold]{now.contacts}[/bold]",
        f"relationships scored [bold]{now.scored}[/bold]",
    )
    table.add_row("", f"[dim]jobs waiting or running: {_busy(now)}[/dim]", "", "")
    return table


def _busy(now: Progress) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(now.pending.items()) if n) or "none"


async def watch(
    pool: Any,
    queue: JobQueue,
    user_id: int,
    queues: set[str],
    console: Console,
    *,
    within: float,
    stop: asyncio.Event,
) -> Progress:
    """Show progress until the user's jobs are done (twice in a row: a finishing job may
    enqueue).

    Raises:
        Interrupted: `stop` was set (the worker service's SIGINT/SIGTERM handler sets it): the
            workers stopped, so the queues would never drain.
        NotDrained: not drained within `within` seconds.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    quiet = 0
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while not stop.is_set():
            now = await progress(pool, queue, user_id, queues)
            live.update(render(now, loop.time() - started))
            quiet = quiet + 1 if now.settled else 0
            if quiet >= 2:
                return now
            if loop.time() - started > within:
                raise NotDrained(
                    f"the demo's jobs did not finish within {within:.0f} s (waiting or running:"
                    f" {_busy(now)}); `fluffymail jobs stats` shows them, and `fluffymail worker`"
                    " finishes them"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    raise Interrupted


async def top_table(pool: Any, user_id: int, limit: int = 10) -> Table:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(SQL["demo_top"], {"user_id": user_id, "limit": limit})
        ).fetchall()
    table = Table(title="Strongest relationships")
    for column in ("#", "name", "company", "score", "level", "why"):
        table.add_column(column, justify="right" if column in ("#", "score") else "left")
    for rank, (name, company, score, level, why) in enumerate(rows, 1):
        table.add_row(
            str(rank), name, company or "", str(math.floor(score)), level, why or ""
        )  # as the web app shows it
    return table


class _Server:
    """uvicorn's server without its own signal handling: the worker service's stop event rules."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        self.server = Quiet(uvicorn.Config(app, host=host, port=port, log_level="warning"))

    async def serve_until(self, stop: asyncio.Event) -> None:
        serving = asyncio.create_task(self.server.serve())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        self.server.should_exit = True
        stopping.cancel()
        await serving


async def serve(
    settings: Settings, options: DemoOptions, stop: asyncio.Event, console: Console
) -> None:
    from fluffymail.web.app import create_app

    url = f"http://{options.host}:{options.port}/"
    console.print(
        f"\n[bold green]Open {url}[/bold green] and log in as [bold]{mailbox.OWNER.email}[/bold] "
        f"with password [bold]{DEMO_PASSWORD}[/bold].\n"
        "The workers keep running: click Sync on the connection to see it again. Ctrl-C stops."
    )
    await _Server(create_app(settings), options.host, options.port).serve_until(stop)
