"""`fluffymail import FILE.ics --user EMAIL`: meetings from an iCalendar file.

Reads and checks the whole file before writing, stores its meetings in one transaction (a
re-import updates them; events it marks cancelled are removed) and asks for a relationship
analysis, which the worker runs.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from fluffymail.config import Settings
from fluffymail.crm.calendar import service as calendar_service
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.errors import FluffyMailError
from fluffymail.integrations.calendar.ics import IcsError, read_ics

__all__ = ["IcsInputError", "is_ics", "read_file", "run_ics_import"]


class IcsInputError(FluffyMailError):
    """The .ics file cannot be imported."""


def is_ics(path: Path) -> bool:
    return path.suffix.lower() in (".ics", ".ical", ".ifb", ".icalendar") and not path.is_dir()


def read_file(path: Path) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise IcsInputError(f"cannot read {path}: {exc.strerror or exc}") from None


async def run_ics_import(
    settings: Settings,
    path: Path,
    data: bytes,
    email: str,
    name: str,
    *,
    policy: Policy,
    console: Console,
) -> calendar_service.StoreResult:
    from fluffymail.cli import user_lookup
    from fluffymail.cli.context import open_context
    from fluffymail.clock import SystemClock
    from fluffymail.jobs import analyze_relationships, build_registry
    from fluffymail.queue import runner

    now = SystemClock().now()
    try:
        found = read_ics(data, now=now)
    except IcsError as exc:
        raise IcsInputError(f"{path}: {exc}") from None
    async with open_context(
        settings, migrate_first=settings.migrate_on_start, name="import"
    ) as ctx:
        await runner.prepare(ctx.queue, build_registry(ctx.deps()))
        async with ctx.pool.connection() as conn, conn.transaction():
            user, created = await mail_repo.get_or_create_user(conn, email, name)
            near = await user_lookup.closest_user(conn, email) if created else None
            result = await calendar_service.store_meetings(
                conn, user_id=user.id, calendar=calendar_service.ICS_CALENDAR,
                connection_id=None, meetings=found.meetings, policy=policy, now=now,
            )  # fmt: skip
            result.removed += await calendar_service.remove_events(
                conn, user.id, calendar_service.ICS_CALENDAR, found.cancelled
            )
            await analyze_relationships.enqueue(ctx.queue, user.id, conn=conn, debounce=0)
    if created:
        user_lookup.say_created(console, user, near)
    console.print(
        f"{_count(len(found.meetings), 'event')} read: {_count(result.stored, 'meeting')} stored,"
        f" {result.removed:,} removed, {result.skipped:,} with nobody but you;"
        f" {_count(result.contacts_created, 'new contact')} (policy {policy.value})"
    )
    return result


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
