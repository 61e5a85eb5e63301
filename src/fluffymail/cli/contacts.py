"""`fluffymail contacts ...`: a user's strongest relationships, with the evidence behind each."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fluffymail.cli import user_lookup
from fluffymail.cli.common import console, run, settings
from fluffymail.clock import SystemClock

if TYPE_CHECKING:
    from fluffymail.crm.relationships import repo as relationships_repo

app = typer.Typer(help="Contacts and relationships.", no_args_is_help=True)


@app.command("top")
def top(
    user: Annotated[str, typer.Option("--user", help="The mailbox owner's email address")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many to show")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    analyze: Annotated[
        bool, typer.Option("--analyze", help="Analyse new mail first (in this process)")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="With --analyze: rebuild from all mail")
    ] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="With --analyze: score as of this time (ISO 8601)"),
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Include contacts only counted (never written to)")
    ] = False,
) -> None:
    """USER's strongest relationships: score, level, trend, two-way threads, last contact."""
    config = settings()
    now = _aware(as_of) if as_of else SystemClock().now()

    from fluffymail.cli.context import open_context
    from fluffymail.crm.relationships import analysis, archive, partial
    from fluffymail.crm.relationships import repo as relationships_repo

    ends: list[datetime] = []
    partials: list[partial.Partial] = []
    unextracted: list[int] = []

    async def main() -> list[relationships_repo.TopRelationship]:
        async with open_context(config, name="cli") as ctx, ctx.pool.connection() as conn:
            found = await user_lookup.require_user(conn, user)
            if analyze:
                await analysis.analyze_user(conn, found.id, now=now, full=full)
                await analysis.rescore_user(conn, found.id, now=now)
            scoring = await archive.scoring_time(conn, found.id, now)
            ends.extend([scoring.archive_ends] if scoring.archive_ends else [])
            partials.extend([p] if (p := await partial.partial_ranking(conn, found.id)) else [])
            ranked = await relationships_repo.top(conn, found.id, limit=limit, everyone=everyone)
            if not ranked:
                unextracted.append(await relationships_repo.unextracted(conn, found.id))
            return ranked

    ranked = run(main())
    notes = Console(stderr=True) if as_json else console  # with --json the JSON stays a list
    if partials:
        notes.print(f"{partials[0].label}.")
    if ends and not as_json:
        console.print(f"This archive ends in {ends[0]:%B %Y}; scores are as of then.")
    if as_json:
        sys.stdout.write(json.dumps([_as_dict(i, r) for i, r in enumerate(ranked, 1)], indent=2))
        sys.stdout.write("\n")
    if not ranked:
        why = _none_yet(user, unextracted[0] if unextracted else 0, analyzed=analyze)
        notes.print(why, soft_wrap=True, markup=False, highlight=False)
    elif not as_json:
        console.print(_table(ranked))


def _none_yet(user: str, unextracted: int, *, analyzed: bool) -> str:
    """Why nothing is ranked, and what to run: --analyze scores only mail whose people a
    worker has found, so it cannot help while messages wait for extraction."""
    if unextracted:
        return (
            f"no relationships scored for {user} yet: {unextracted:,} messages wait for a worker"
            " to find the people in them; run `fluffymail worker` (or `fluffymail worker"
            " --drain` until it exits 0), then this again"
        )
    if analyzed:
        return (
            f"no relationships scored for {user}: their mail made no contacts yet"
            f" (`fluffymail connections list --user {user}`, then `fluffymail connections"
            f" people ID --user {user}`, say who wrote and why they are not contacts)"
        )
    return f"no relationships scored for {user} yet (try --analyze)"


@app.command("review-identity")
def review_identity(
    user: Annotated[str, typer.Option("--user", help="The mailbox owner's email address")],
) -> None:
    """Decide again which sent-folder senders are USER and which are delegates (aliases learned
    by the old one-message rule included), re-attributing the mail of addresses released."""
    config = settings()

    from fluffymail.cli.context import open_context
    from fluffymail.crm.contacts import service as contacts_service

    async def main() -> list[str]:
        async with open_context(config, name="cli") as ctx, ctx.pool.connection() as conn:
            found = await user_lookup.require_user(conn, user)
            now = SystemClock().now()
            async with conn.transaction():
                review = await contacts_service.review_identity(conn, found.id, now=now)
                await contacts_service.repair_aliases(
                    conn, found.id, now=now, actor="cli", released=review.released
                )
            return [
                *(f"alias added: {a}" for a in review.added),
                *(f"alias released (now a delegate): {a}" for a in review.released),
                *await contacts_service.describe_self(conn, found.id),
            ]

    for line in run(main()):
        console.print(line, markup=False)
    console.print("run `fluffymail contacts top --user ... --analyze --full` to rescore")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _as_dict(rank: int, r: relationships_repo.TopRelationship) -> dict[str, Any]:
    return {
        "rank": rank,
        "contact_id": r.contact_id,
        "name": r.name,
        "address": r.address,
        "score": r.score,
        "level": r.level,
        "trend": r.trend,
        "going_cold": r.going_cold,
        "two_way_threads": r.two_way_threads,
        "sent": r.sent,
        "received": r.received,
        "first_interaction": r.first_at.isoformat() if r.first_at else None,
        "last_interaction": r.last_at.isoformat() if r.last_at else None,
        "evidence": list(r.evidence),
        "computed_on": r.computed_on.isoformat(),
    }


def _table(ranked: list[relationships_repo.TopRelationship]) -> Table:
    table = Table(title="strongest relationships")
    for column in ("#", "name", "address", "score", "level", "trend", "2-way", "last", "why"):
        table.add_column(column, justify="right" if column in {"#", "score", "2-way"} else "left")
    for rank, r in enumerate(ranked, 1):
        trend = f"{r.trend}, going cold" if r.going_cold else r.trend
        table.add_row(
            str(rank),
            r.name or "–",
            r.address,
            f"{r.score:.1f}",
            r.level,
            trend,
            str(r.two_way_threads),
            f"{r.last_at:%Y-%m-%d}" if r.last_at else "–",
            r.evidence[0]["text"] if r.evidence else "",
        )
    return table
