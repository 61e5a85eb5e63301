"""Serverless entry points: one drain run per call, for schedulers and function platforms.

A composition root like `cli/`: it builds settings, pool, job registry and queue as
`fluffymail worker` does; the drain mechanics are `fluffymail.queue.drain`.

    from fluffymail import serverless
    report = serverless.drain(50)   # work what is due for at most 50 s, then return
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from fluffymail.cli.context import check_worker_queues, load_registry_factory, open_context
from fluffymail.config import Settings, parse_queue_concurrency
from fluffymail.jobs.runtime import install_schedules, summary_provider
from fluffymail.queue import drain as queue_drain
from fluffymail.queue.drain import DrainOptions, DrainReport

JOBS = "fluffymail.jobs:build_registry"
LAMBDA_MARGIN = 3.0  # seconds of a Lambda invocation's time kept for returning the answer


async def run_drain(
    config: Settings,
    seconds: float | None = None,
    *,
    queues: str | None = None,
    jobs: str = JOBS,
    handle_signals: bool = False,
    stop: asyncio.Event | None = None,
) -> DrainReport:
    """One drain run with `config`: at most `seconds` (default FLUFFYMAIL_DRAIN_SECONDS).

    `queues` (`NAME:N,...`) limits the run to those queues, at that concurrency."""
    concurrency = parse_queue_concurrency(queues) if queues else config.queue_concurrency
    only = set(concurrency) if queues else None
    factory = load_registry_factory(jobs)
    options = DrainOptions(
        seconds=config.drain_seconds if seconds is None else seconds,
        grace=config.shutdown_grace,
        timeout=config.shutdown_timeout,
    )
    async with (
        open_context(config, migrate_first=config.migrate_on_start, name="worker") as ctx,
        summary_provider(config) as provider,
    ):
        registry = factory(dataclasses.replace(ctx.deps(), summary_provider=provider))
        check_worker_queues(registry, config, only or ())
        await install_schedules(ctx.queue, registry)
        if config.sentry_dsn:
            from fluffymail.integrations import sentry

            sentry.attach(ctx.queue, config.sentry_dsn, environment=config.environment)
        report = await queue_drain.drain(
            ctx.queue,
            registry,
            concurrency,
            options,
            only=only,
            stop=stop,
            handle_signals=handle_signals,
            log=ctx.log,
        )
    ctx.log.info(report.summary(), extra={"action": "worker.drained", **report.as_dict()})
    return report


def drain(
    seconds: float | None = None,
    *,
    queues: str | None = None,
    settings: Settings | None = None,
    jobs: str = JOBS,
    handle_signals: bool = False,
) -> DrainReport:
    """Work the due jobs for at most `seconds`, then return what was done and what is left.

    For function platforms: settings come from the environment (FLUFFYMAIL_*, DATABASE_URL)
    unless given. Not for use inside a running event loop (await `run_drain` there).

    After a run that gave up on handlers ignoring cancellation (`report.clean` False) their
    event loop is left unclosed, never to run again: closing it would wait for them forever.
    Their jobs are rescued once their heartbeat lapses; a process should exit soon after."""
    runner = asyncio.Runner()
    try:
        report = runner.run(
            run_drain(
                settings or Settings(),
                seconds,
                queues=queues,
                jobs=jobs,
                handle_signals=handle_signals,
            )
        )
    except BaseException:
        runner.close()
        raise
    if report.clean:
        runner.close()
    return report


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """AWS Lambda's handler (`fluffymail.serverless.lambda_handler`): one drain run within the
    invocation's remaining time (less LAMBDA_MARGIN), or `event["max_seconds"]` if shorter."""
    from fluffymail import logging as fm_logging

    config = Settings()
    fm_logging.setup(config.log_level, config.log_format)
    remaining = context.get_remaining_time_in_millis() / 1000 - LAMBDA_MARGIN
    asked = event.get("max_seconds") if isinstance(event, dict) else None
    seconds = min(float(asked or config.drain_seconds), remaining)
    if seconds <= 0:
        logging.getLogger("fluffymail.worker").error(
            "no time left for a drain run", extra={"action": "worker.drain_no_time"}
        )
        return {"error": "no time left in this invocation"}
    return drain(seconds, settings=config).as_dict()
