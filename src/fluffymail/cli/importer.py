"""`fluffymail import PATH --user EMAIL`: import an mbox file, a Maildir or a folder of them
(or an .ics calendar file: `cli/ics_import.py`).

Validates everything before writing anything, then runs the mailbox's sync run (the
`sync-emails` workflow: read, extract, analyse) in this process, parsing in a child process,
with a progress bar: the read, then finding the people and scoring them when this command
extracts (`--extract`) or a worker service does. Idempotent: the connection keeps a cursor,
and messages are deduplicated, so importing the same file again adds nothing; the same mbox
file moved or copied elsewhere goes to its connection too (`crm.mail.file_imports`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from email_validator import EmailNotValidError, validate_email
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from fluffymail.cli import user_lookup
from fluffymail.cli.common import fail
from fluffymail.cli.ics_import import is_ics, read_file, run_ics_import
from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import addresses
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.mail import file_imports
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.crm.relationships import repo as relationships_repo
from fluffymail.errors import FluffyMailError
from fluffymail.integrations.mail import file_source
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.files import MailSourceError, discover_sources
from fluffymail.jobs.parser_pool import ParserPool, batch_gc
from fluffymail.queue import JobQueue, JobState

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from fluffymail.jobs import sync_emails
    from fluffymail.queue.workflows import StepInfo

console = Console(stderr=False, width=None if sys.stdout.isatty() else 110)


class ImportInputError(FluffyMailError):
    """The import's input is invalid."""


def import_command(
    path: Annotated[
        Path, typer.Argument(help="An mbox file, a Maildir, a folder of them, or an .ics file")
    ],
    user: Annotated[str, typer.Option("--user", help="The mailbox owner's email address")],
    name: Annotated[str, typer.Option("--name", help="The owner's name (new users)")] = "",
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything, ignoring the saved position")
    ] = False,
    all_labels: Annotated[
        bool,
        typer.Option(
            "--all-labels",
            help="Also import Google Takeout mail labelled Spam, Trash, Drafts, Chat or a"
            " Promotions/Social/Forums/Updates category (skipped by default, as Gmail sync does)",
        ),
    ] = False,
    extract: Annotated[
        bool,
        typer.Option(
            "--extract",
            help="Also find the people in the new mail now, in this process (otherwise the"
            " worker does), and say who became a contact and why the others did not",
        ),
    ] = False,
    contact_policy: Annotated[
        Policy,
        typer.Option("--contact-policy", help="An .ics file's attendees: who becomes a contact"),
    ] = Policy.SENT,
) -> None:
    """Import mail (or an .ics file's meetings) into USER's mailbox (created if missing)."""
    if is_ics(path):
        _import_ics(path, user, name, contact_policy)
        return
    try:
        email = check_email(user)
        root, kind = check_path(path)
    except ImportInputError as exc:
        fail(exc)
    settings = Settings()
    committed = Committed()
    try:
        asyncio.run(
            run_import(
                settings,
                root,
                kind,
                email,
                name,
                full=full,
                all_labels=all_labels,
                committed=committed,
                extract=extract,
            )
        )
    except FluffyMailError as exc:
        fail(exc)
    except KeyboardInterrupt:
        console.print(
            f"[yellow]interrupted[/yellow] after {committed.seen:,} messages"
            f" ({committed.stored:,} new, all kept); run the same command again to continue"
        )
        raise typer.Exit(130) from None


def _import_ics(path: Path, user: str, name: str, policy: Policy) -> None:
    try:
        email = check_email(user)
        data = read_file(path)
        asyncio.run(
            run_ics_import(Settings(), path, data, email, name, policy=policy, console=console)
        )
    except FluffyMailError as exc:
        fail(exc)


@dataclass(slots=True)
class Committed:
    """The import's progress as of its last committed batch (what an interruption reports)."""

    seen: int = 0
    stored: int = 0


PARSER_PROCESS_FROM = 2000  # messages
RUN_HERE_WITHIN = 600  # seconds: the import's run waits this long for this process to start it
FOLLOW_SECONDS = 0.2  # how often the import looks at its run


@contextlib.contextmanager
def _parser(processes: int) -> Iterator[ParserPool | None]:
    """The import's parser processes, as a worker's: started from a fork server, so they hold
    none of this process's database connections, and gone soon after this process is. Forked
    from the import itself, a child outlived an import killed mid-batch (SIGTERM, SIGHUP, OOM)
    and kept its sessions open in their transaction: the next import of the mailbox waited on
    their locks, silently, for as long as the child lived (for ever)."""
    if not processes:
        yield None
        return
    batch_gc()  # here (a bulk import) and in the parser processes
    parser = ParserPool(processes)
    parser.warm_up()  # while the import reads its first batch
    try:
        yield parser
    finally:
        parser.shutdown(wait=True, cancel_futures=True)


def check_email(user: str) -> str:
    """The normalised (lower-cased) address, or ImportInputError; syntax only, no DNS.

    An address as it appears in real mail but outside RFC 5322 (``t..hodge@enron.com``, from
    old Exchange and Notes exports) is taken as written, with a warning: it is the owner's.
    """
    try:
        checked = validate_email(user, check_deliverability=False)
    except EmailNotValidError as exc:
        lenient = addresses.normalize_address(user.strip())
        if lenient is None:
            raise ImportInputError(f"--user {user!r} is not a valid email address: {exc}") from None
        console.print(
            f"[yellow]warning:[/yellow] --user {user!r} breaks RFC 5322 ({exc});"
            f" using it as it appears in your mail: {lenient.email}"
        )
        return lenient.email
    return checked.normalized.lower()


def check_path(path: Path) -> tuple[Path, ConnectionKind]:
    """The absolute path and connection kind, or ImportInputError if it holds no mail."""
    root = path.expanduser().resolve()
    try:
        containers = discover_sources(root)
    except MailSourceError as exc:
        raise ImportInputError(str(exc)) from None
    except OSError as exc:
        raise ImportInputError(f"cannot read {root}: {exc.strerror or exc}") from None
    if all(c.kind != "mbox" for c in containers):
        return root, ConnectionKind.MAILDIR
    return root, ConnectionKind.MBOX


async def run_import(
    settings: Settings,
    root: Path,
    kind: ConnectionKind,
    email: str,
    name: str,
    *,
    full: bool,
    all_labels: bool = False,
    committed: Committed | None = None,
    extract: bool = False,
) -> sync_emails.SyncResult:
    from fluffymail.cli import people_summary
    from fluffymail.cli.context import open_context
    from fluffymail.crm.contacts import service as contacts_service
    from fluffymail.jobs import build_registry, extract_contacts, index_messages, sync_emails
    from fluffymail.queue import runner
    from fluffymail.web.services import uploads

    clock = SystemClock()
    async with open_context(
        settings, migrate_first=settings.migrate_on_start, name="import"
    ) as ctx:
        registry = build_registry(ctx.deps(), clock)
        await runner.prepare(ctx.queue, registry)
        async with ctx.pool.connection() as conn, conn.transaction():
            user, created = await mail_repo.get_or_create_user(conn, email, name)
            chosen = await file_imports.connect_files(
                conn, user_id=user.id, kind=kind, source=root, display_name=root.name,
                same_file=file_source.same_mbox,
            )  # fmt: skip
            near = await user_lookup.closest_user(conn, email) if created else None
        if created:
            user_lookup.say_created(console, user, near)
        connection = chosen.connection
        say_connection(chosen)
        if chosen.moved_from:
            uploads.discard_replaced(settings.data_dir, user.id, chosen.moved_from)
        source = FileSource(root, skip_labels=()) if all_labels else FileSource(root)
        total = source.estimate(None if full else connection.cursor)
        # A parser process overlaps parsing with storing on big imports; for a handful of new
        # messages, starting it would cost more than the whole sync.
        pool_size = 1 if total >= PARSER_PROCESS_FROM else 0
        args = sync_emails.Args(connection_id=connection.id, user_id=user.id, full=full)
        with _progress() as progress, _parser(pool_size) as parser:
            task = progress.add_task("reading mail", total=total)

            def report(update: sync_emails.SyncProgress) -> None:
                if committed is not None:  # called once a batch has committed
                    committed.seen, committed.stored = update.seen, update.stored
                remaining = update.remaining if update.remaining is not None else 0
                progress.update(task, completed=update.seen, total=update.seen + remaining)

            run_id = await _start_run(ctx.queue, args)
            deps = replace(ctx.deps(), parser=parser)
            handler = sync_emails.make_handler(deps, clock, source=source, on_progress=report)
            grace = settings.shutdown_timeout
            try:
                await ctx.queue.work(sync_emails.QUEUE, handler, only=[run_id])
                if extract:  # the people (and the search rows) here, not by a worker
                    for kind in (extract_contacts.QUEUE, index_messages.QUEUE):
                        await ctx.queue.work(kind, registry[kind].handler, concurrency=2)
                result = await _follow(ctx.queue, ctx.pool, run_id, args, progress, extract)
            except asyncio.CancelledError:  # Ctrl-C: stop now, not after reading on for the
                grace = 0  # grace; the batch being stored rolls back, the committed ones stay
                raise
            finally:
                await ctx.queue.stop(grace=grace)
        async with ctx.pool.connection() as conn:
            self_lines = await contacts_service.describe_self(conn, user.id)
            people_lines = await people_summary.lines(conn, user.id, connection.id, email)
    _summary(result, source)
    for line in [*self_lines, *people_lines]:
        console.print(line, markup=False)
    return result


def say_connection(chosen: file_imports.FileConnection) -> None:
    """Which connection the import goes to, and why that one."""
    connection = chosen.connection
    which = f"connection {connection.id} ({connection.display_name or connection.source})"
    if chosen.created:
        console.print(f"importing into {which}, new", markup=False, highlight=False)
    elif chosen.moved_from:
        console.print(
            f"importing into {which}: the same file was imported from {chosen.moved_from};"
            " only what is missing is stored, and it is read from here from now on",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
    else:
        console.print(
            f"importing into {which}, imported before: only what is missing is stored",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip


async def _start_run(queue: JobQueue, args: sync_emails.Args) -> int:
    """The sync's run for this import: a new one, sent with a later start so that the workers
    leave it to this process, or the connection's run already queued."""
    from fluffymail.jobs import sync_emails

    run_id = await sync_emails.enqueue(queue, args, start_after=RUN_HERE_WITHIN)
    if run_id is not None:
        return run_id
    key = sync_emails.schedule_key(args.connection_id)
    waiting = False  # a run that has read its mail and waits for a worker to find the people
    for job in await queue.find_jobs(name=sync_emails.QUEUE, limit=50):
        if job.singleton_key == key and job.state in (JobState.CREATED, JobState.RETRY):
            if not await _read_done(queue, job.id):  # else: its run finds an earlier read's people
                return job.id
            waiting = True
    if waiting and not await _workers_extract(queue):
        raise ImportInputError(
            "the last import of this mailbox waits for a worker to find the people in its"
            " mail, and no worker is running: run `fluffymail worker` (it finds them and ends"
            " that import), then import again; an import with --extract finds the people"
            " itself, so the next one does not wait"
        )
    raise ImportInputError(
        "this mailbox's last sync is still running (see `fluffymail jobs list --queue"
        " sync-emails`); import again when it has ended"
    )


async def _read_done(queue: JobQueue, run_id: int) -> bool:
    from fluffymail.jobs import sync_emails
    from fluffymail.queue.workflows import Workflows

    steps = await Workflows(queue).steps(run_id)
    return any(s.name == sync_emails.SYNC_STEP and s.state == "completed" for s in steps)


async def _workers_extract(queue: JobQueue) -> bool:
    """Whether a live worker service finds the people in new mail (then the import shows
    that to its end)."""
    from fluffymail.jobs import extract_contacts

    for worker in await queue.get_workers():
        if worker["id"] != queue.worker_id and extract_contacts.QUEUE in (worker["queues"] or []):
            return True
    return False


async def _follow(
    queue: JobQueue,
    pool: AsyncConnectionPool,
    run_id: int,
    args: sync_emails.Args,
    progress: Progress,
    extract: bool,
) -> sync_emails.SyncResult:
    """Show the run's phases until it ends; the read's result. Without `extract` and with no
    worker service finding the people (asked when the read ends), only until its mail is read."""
    from fluffymail.jobs import sync_emails
    from fluffymail.queue.workflows import Workflows

    workflows = Workflows(queue)
    people: TaskID | None = None
    to_the_end: bool | None = True if extract else None
    while True:
        run = await workflows.get(run_id)
        if run is None:
            raise ImportInputError(f"the import's run {run_id} was deleted")
        steps = {step.name: step for step in run.steps}
        read = steps.get(sync_emails.SYNC_STEP)
        if run.state == "failed":
            raise ImportInputError(f"the import failed: {_error(run.error)}")
        if read is not None and read.state == "completed":
            if to_the_end is None:
                to_the_end = await _workers_extract(queue)
            if not to_the_end or read.output.get("status") != "ok" or run.state == "completed":
                return sync_emails.SyncResult.from_output(read.output, args.connection_id)
            people = await _show_people(pool, progress, people, run.steps, args.user_id)
        await asyncio.sleep(FOLLOW_SECONDS)


async def _show_people(
    pool: AsyncConnectionPool,
    progress: Progress,
    task: TaskID | None,
    steps: list[StepInfo],
    user_id: int,
) -> TaskID:
    """The 'finding people' bar: batches done of those sent, contacts found, scored."""
    from fluffymail.web.services.sync_progress import PHASES, phase_of

    phase = phase_of(steps)
    async with pool.connection() as conn:
        contacts, scored = await relationships_repo.found_and_scored(conn, user_id)
    label = f"{PHASES[phase.name]} · {contacts:,} contacts · {scored:,} scored"
    total = max(phase.batches_total, 1)
    if task is None:
        return progress.add_task(label, total=total, completed=phase.batches_done)
    progress.update(task, description=label, total=total, completed=phase.batches_done)
    return task


def _error(error: object) -> str:
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


class RateColumn(ProgressColumn):
    """Messages per second (rich's own speed column is for bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} msg/s" if speed else "– msg/s", style="progress.data.speed")


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=not console.is_terminal,
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _summary(result: sync_emails.SyncResult, source: FileSource) -> None:
    rate = result.seen / result.seconds if result.seconds > 0 else 0.0
    duplicates = result.seen - result.stored
    console.print(
        f"{_count(result.seen, 'message')} read, {result.stored:,} new, "
        f"{_count(duplicates, 'duplicate')}, in {result.seconds:.2f} s ({rate:,.0f} msg/s)"
    )
    if result.deleted:
        console.print(f"{_count(result.deleted, 'message')} no longer in the files: deleted")
    if source.skipped_by_label:
        counts = ", ".join(f"{label} {n}" for label, n in source.skipped_by_label.most_common())
        console.print(
            f"[yellow]skipped {source.skipped_by_label.total()} messages by their Gmail labels"
            f" ({counts});[/yellow] import them with --all-labels --full"
        )
    if source.skipped:
        console.print(f"[yellow]skipped {len(source.skipped)} files that are not mail:[/yellow]")
        for path in source.skipped:
            console.print(f"  {path}")
