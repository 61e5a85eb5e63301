"""`fluffymail worker`: the worker service, with optional /metrics and /healthz on a port."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from fluffymail.cli.common import require_secret_key, run, settings
from fluffymail.cli.context import check_worker_queues, load_registry_factory, open_context
from fluffymail.config import parse_queue_concurrency
from fluffymail.jobs.runtime import install_schedules, summary_provider
from fluffymail.queue import JobQueue, runner

if TYPE_CHECKING:
    import uvicorn

    from fluffymail.config import Settings
    from fluffymail.jobs.parser_pool import ParserPool


def worker(
    queues: Annotated[
        str | None, typer.Option(help="NAME:CONCURRENCY,... (default: FLUFFYMAIL_QUEUES)")
    ] = None,
    jobs: Annotated[
        str, typer.Option(help="module:function building the job registry")
    ] = "fluffymail.jobs:build_registry",
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics and /healthz here (default: FLUFFYMAIL_METRICS_PORT)"),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            help="Address the metrics port binds (default: FLUFFYMAIL_METRICS_HOST, 127.0.0.1)"
        ),
    ] = None,
    reload: Annotated[
        bool, typer.Option(help="Restart (gracefully) when the code changes (development)")
    ] = False,
    drain: Annotated[
        bool,
        typer.Option(
            help="Drain and exit (serverless, cron): work what is due, stop when the queues "
            "are empty or --max-seconds is spent; exit 0 drained, 75 work left"
        ),
    ] = False,
    max_seconds: Annotated[
        float | None,
        typer.Option(
            min=1, help="--drain: the run's time budget, stop included (FLUFFYMAIL_DRAIN_SECONDS)"
        ),
    ] = None,
) -> None:
    """Run the worker service: process jobs until SIGTERM/SIGINT, then drain gracefully.

    Exits 0 after a clean drain, 3 when it gave up at grace + FLUFFYMAIL_SHUTDOWN_TIMEOUT.

    With --drain: one bounded run, ending with a summary line. Exit 0: nothing due is left;
    75: jobs are due that the budget did not reach (trigger another run); 3: gave up on
    handlers at the deadline; 1: an error (database, settings)."""
    asked = queue_spec(queues)
    if reload:
        reload_on_change()
        return
    config = settings()
    require_secret_key(config)
    if drain:
        drain_once(config, queues, jobs, max_seconds)
        return
    concurrency = asked or config.queue_concurrency
    factory = load_registry_factory(jobs)
    port = metrics_port if metrics_port is not None else config.metrics_port
    host = metrics_host or config.metrics_host
    token = config.metrics_token.get_secret_value() if config.metrics_token else None

    only = set(concurrency) if queues else None

    async def main() -> None:
        async with (
            open_context(config, migrate_first=config.migrate_on_start, name="worker") as ctx,
            summary_provider(config) as provider,
        ):
            with parser_process(only) as parser:
                deps = dataclasses.replace(ctx.deps(), summary_provider=provider, parser=parser)
                registry = factory(deps)
                check_worker_queues(registry, config, only or ())
                await install_schedules(ctx.queue, registry)
                if config.sentry_dsn:
                    from fluffymail.integrations import sentry

                    sentry.attach(ctx.queue, config.sentry_dsn, environment=config.environment)
                async with serve_metrics(ctx.queue, port, host=host, token=token):
                    clean = await runner.run(
                        ctx.queue,
                        registry,
                        concurrency,
                        grace=config.shutdown_grace,
                        only=only,
                        log=ctx.log,
                    )
                    if not clean:
                        exit_now(ctx.log)

    run(main())


def queue_spec(queues: str | None) -> dict[str, int] | None:
    """`--queues` parsed (None when not given), or a usage error saying what is wrong."""
    if not queues:
        return None
    try:
        return parse_queue_concurrency(queues)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--queues") from None


@contextlib.contextmanager
def parser_process(only: set[str] | None) -> Iterator[ParserPool | None]:
    """The process that parses mail for this worker's syncs (None when it runs no syncs),
    started now so the first sync does not wait for it, and stopped with the worker. A
    worker that syncs also collects cycles less often, as an import does: storing a batch
    allocates ~100k short-lived objects (issue 21: 10% of the sync's CPU went to the cycle
    collector)."""
    from fluffymail.jobs import sync_emails
    from fluffymail.jobs.parser_pool import ParserPool, batch_gc

    if only is not None and sync_emails.QUEUE not in only:
        yield None
        return
    batch_gc()
    parser = ParserPool()
    parser.warm_up()
    try:
        yield parser
    finally:
        parser.shutdown(wait=False, cancel_futures=True)


EXIT_ABANDONED = 3  # stopped at the shutdown deadline, leaving work behind
EXIT_WORK_LEFT = 75  # a drain run's budget ended with jobs due (sysexits EX_TEMPFAIL: try again)


def drain_once(config: Settings, queues: str | None, jobs: str, seconds: float | None) -> None:
    """`worker --drain`: one drain run, its summary on stdout, the exit code from its report."""
    from fluffymail import serverless
    from fluffymail.cli.common import fail
    from fluffymail.errors import FluffyMailError

    try:
        report = serverless.drain(
            seconds, queues=queues, settings=config, jobs=jobs, handle_signals=True
        )
    except FluffyMailError as exc:
        fail(exc)
    typer.echo(report.summary())
    if not report.clean:  # handlers still run, ignoring cancellation: leave at once
        exit_now(logging.getLogger("fluffymail.worker"))
    if report.work_left:
        raise typer.Exit(EXIT_WORK_LEFT)


def exit_now(log: logging.Logger) -> NoReturn:
    """Leave the process at once: after a drain that gave up at its deadline, closing the pool
    or awaiting abandoned tasks (a handler that ignores cancellation) could hang."""
    log.error(
        "exiting at the shutdown deadline; abandoned jobs are rescued once their heartbeat lapses",
        extra={"action": "worker.exit_abandoned", "exit_code": EXIT_ABANDONED},
    )
    logging.shutdown()  # flush the log handlers
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_ABANDONED)


def reload_on_change() -> None:
    """Run this same command without --reload in a child process, restarted with SIGINT (a
    graceful drain) whenever a file of the package changes, like `uvicorn --reload`."""
    import shlex
    import sys
    from pathlib import Path

    import watchfiles

    import fluffymail

    command = [sys.executable, "-m", "fluffymail", *(a for a in sys.argv[1:] if a != "--reload")]
    package = Path(fluffymail.__file__).parent
    typer.echo(f"watching {package} for changes")
    watchfiles.run_process(
        package,
        target=shlex.join(command),
        target_type="command",
        sigint_timeout=30,
        watch_filter=watchfiles.PythonFilter(extra_extensions=(".sql",)),
    )


@contextlib.asynccontextmanager
async def serve_metrics(
    queue: JobQueue, port: int | None, *, host: str = "127.0.0.1", token: str | None = None
) -> AsyncIterator[uvicorn.Server | None]:
    """Serve /metrics and /healthz for this worker on `host:port` (when a port is set) while the
    block runs; yields the server."""
    if port is None:
        yield None
        return
    import uvicorn

    from fluffymail.queue.http import create_app
    from fluffymail.queue.metrics import QueueMetrics

    metrics = QueueMetrics(queue)
    metrics.loop.start()
    config = uvicorn.Config(
        create_app(queue, metrics, token),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        proxy_headers=False,  # /healthz trusts loopback peers: the peer must be the real one
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the runner owns signals
    task = asyncio.create_task(server.serve())
    try:
        yield server
    finally:
        server.should_exit = True
        await task
        await metrics.loop.stop()
