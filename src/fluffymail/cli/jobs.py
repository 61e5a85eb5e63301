"""`fluffymail jobs ...`: inspect and administer the queue (every read command takes --json)."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from fluffymail.cli.common import console, run, settings
from fluffymail.cli.context import Context, open_context
from fluffymail.errors import FluffyMailError
from fluffymail.queue import JobState
from fluffymail.queue.workflows import Workflows

app = typer.Typer(help="Inspect and administer background jobs.", no_args_is_help=True)
STATES = ("created", "deferred", "retry", "active", "completed", "cancelled", "failed")

Json = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
QueueOpt = Annotated[str | None, typer.Option("--queue", "-q", help="Only this queue")]
StateOpt = Annotated[
    list[str] | None, typer.Option("--state", "-s", help="Only these states (repeatable)")
]
KeyOpt = Annotated[str | None, typer.Option("--key", help="Only this group key")]
SinceOpt = Annotated[datetime | None, typer.Option(help="Created at or after (ISO 8601)")]
UntilOpt = Annotated[datetime | None, typer.Option(help="Created before (ISO 8601)")]


def with_queue(action: Callable[[Context], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with open_context(settings()) as ctx:
            return await action(ctx)

    return run(main())


def emit(data: Any, as_json: bool, table: Callable[[Any], Table] | None = None) -> None:
    if as_json or table is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        console.print(table(data))


async def known_queue(ctx: Context, name: str | None) -> None:
    if name is not None and name not in await ctx.queue.get_queues():
        known = ", ".join(await ctx.queue.get_queues()) or "none"
        raise FluffyMailError(f"unknown queue {name!r}; known: {known}")


def check_states(states: list[str] | None) -> list[str] | None:
    for state in states or ():
        if state not in {s.value for s in JobState}:
            raise typer.BadParameter(
                f"unknown state {state!r}; use one of {', '.join(s.value for s in JobState)}"
            )
    return states or None


@app.command("stats")
def stats(queue: QueueOpt = None, as_json: Json = False) -> None:
    """Job counts per queue and state."""

    async def action(ctx: Context) -> dict[str, dict[str, int]]:
        await known_queue(ctx, queue)
        all_stats = await ctx.queue.get_queue_stats(None)
        return {queue: all_stats[queue]} if queue else all_stats  # type: ignore[index,return-value]

    emit(with_queue(action), as_json, stats_table)


def stats_table(stats: dict[str, dict[str, int]]) -> Table:
    table = Table(title="jobs by state")
    table.add_column("queue", no_wrap=True)
    for state in STATES:
        table.add_column(state, justify="right")
    for name, counts in stats.items():
        table.add_row(name, *(str(counts.get(state, 0)) for state in STATES))
    return table


@app.command("list")
def list_jobs(
    queue: QueueOpt = None,
    state: StateOpt = None,
    key: KeyOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: int = 50,
    as_json: Json = False,
) -> None:
    """Jobs matching the filters, newest first."""

    async def action(ctx: Context) -> list[dict[str, Any]]:
        await known_queue(ctx, queue)
        jobs = await ctx.queue.find_jobs(
            name=queue,
            states=check_states(state),
            group_key=key,
            since=since,
            until=until,
            limit=limit,
        )
        return [asdict(job) for job in jobs]

    emit(with_queue(action), as_json, jobs_table)


def jobs_table(jobs: list[dict[str, Any]]) -> Table:
    table = Table(
        "id",
        "queue",
        "state",
        "attempt",
        "key",
        "created",
        "error / output",
        title=f"{len(jobs)} jobs",
    )
    for job in jobs:
        output = job["output"]
        summary = (
            output.get("message", "") if isinstance(output, dict) and "type" in output else output
        )
        table.add_row(
            str(job["id"]),
            job["name"],
            str(job["state"]),
            str(job["attempt"]),
            job["group_key"] or job["singleton_key"] or "",
            f"{job['created_on']:%Y-%m-%d %H:%M:%S}",
            str(summary or "")[:60],
        )
    return table


@app.command("show")
def show(job_id: int, as_json: Json = False) -> None:
    """One job with every attempt (and, for a workflow run, its steps)."""

    async def action(ctx: Context) -> dict[str, Any]:
        job = await ctx.queue.get_job(job_id)
        if job is None:
            raise FluffyMailError(f"no job with id {job_id}")
        shown = {**asdict(job), "attempts": await ctx.queue.get_attempts(job_id)}
        steps = await Workflows(ctx.queue).steps(job_id)
        if steps:  # a workflow run: its steps, and the cancel_on rules it listens for
            shown["steps"] = [asdict(s) for s in steps if s.kind != "cancel_on"]
            shown["cancel_on"] = [s.waiting_for for s in steps if s.kind == "cancel_on"]
        return shown

    emit(with_queue(action), as_json=True)


def _ids_or_filter(ids: list[int] | None, queue: str | None, state: list[str] | None) -> None:
    if not ids and not queue and not state:
        raise typer.BadParameter("give job ids, or a filter such as --queue or --state")


@app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Job ids")] = None,
    queue: QueueOpt = None,
    key: KeyOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Retry failed jobs: by id, or every failed job matching the filters."""
    _ids_or_filter(ids, queue, None if key is None else [key])

    async def action(ctx: Context) -> int:
        await known_queue(ctx, queue)
        if ids:
            return len(await ctx.queue.retry(ids))
        return await ctx.queue.retry_matching(name=queue, group_key=key, since=since, until=until)

    console.print(f"retried {with_queue(action)} job(s)")


@app.command("cancel")
def cancel(
    ids: Annotated[list[int] | None, typer.Argument(help="Job ids")] = None,
    queue: QueueOpt = None,
    state: StateOpt = None,
    key: KeyOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Cancel queued or running jobs: by id, or every one matching the filters."""
    _ids_or_filter(ids, queue, state)

    async def action(ctx: Context) -> int:
        await known_queue(ctx, queue)
        if ids:
            return len(await ctx.queue.cancel(ids))
        return await ctx.queue.cancel_matching(
            name=queue, states=check_states(state), group_key=key, since=since, until=until
        )

    console.print(f"cancelled {with_queue(action)} job(s)")


@app.command("redrive")
def redrive(dead_letter_queue: str, limit: int | None = None) -> None:
    """Send the jobs of a dead-letter queue back to the queues they came from."""

    async def action(ctx: Context) -> int:
        await known_queue(ctx, dead_letter_queue)
        return await ctx.queue.redrive(dead_letter_queue, limit)

    console.print(f"redrove {with_queue(action)} job(s)")


@app.command("pause")
def pause(
    queue: str,
    seconds: Annotated[
        float | None,
        typer.Option("--for", min=1, help="Resume by itself after this many seconds"),
    ] = None,
) -> None:
    """Stop every worker from starting jobs of QUEUE (until `resume`, or for --for seconds)."""
    with_queue(lambda ctx: ctx.queue.pause_queue(queue, seconds))
    console.print(f"paused {queue}" + (f" for {seconds:g} s" if seconds else ""))


@app.command("resume")
def resume(queue: str) -> None:
    """Let workers start jobs of QUEUE again."""
    with_queue(lambda ctx: ctx.queue.resume_queue(queue))
    console.print(f"resumed {queue}")


@app.command("schedules")
def schedules(as_json: Json = False) -> None:
    """Cron schedules with their last and next tick."""
    emit(with_queue(lambda ctx: ctx.queue.get_schedules()), as_json, schedules_table)


def schedules_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("queue", "key", "cron", "tz", "last tick", "next tick", title="schedules")
    for row in rows:
        table.add_row(
            row["name"],
            row["key"],
            row["cron"],
            row["tz"],
            str(row["last_tick"] or ""),
            str(row["next_tick"]),
        )
    return table


@app.command("workers")
def workers(as_json: Json = False) -> None:
    """Worker processes alive now."""
    emit(with_queue(lambda ctx: ctx.queue.get_workers()), as_json, workers_table)


def workers_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("id", "queues", "started", "last heartbeat", title="workers")
    for row in rows:
        table.add_row(
            row["id"], ",".join(row["queues"]), str(row["started_on"]), str(row["heartbeat_on"])
        )
    return table
