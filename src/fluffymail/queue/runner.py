"""Run a registry's workers until told to stop: the worker service's main loop.

SIGTERM/SIGINT stop claiming, give running jobs the grace period, release the rest, exit.
Stopping never takes longer than the grace period plus the queue's `shutdown_timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping

from fluffymail.queue.client import JobQueue
from fluffymail.queue.options import queue_options
from fluffymail.queue.registry import Registry


async def prepare(queue: JobQueue, registry: Registry) -> None:
    """Create every registered queue (dead-letter targets first), writing only the queues that
    are missing or whose options changed: one statement when all are current, which a drain
    run started every minute pays each time (issue 20)."""
    entries = sorted(registry, key=lambda e: e.queue_options.get("dead_letter") is not None)
    stored = await queue.get_queues()
    for entry in entries:
        if stored.get(entry.name) != queue_options(**entry.queue_options):
            await queue.create_queue(entry.name, **entry.queue_options)


async def start_workers(
    queue: JobQueue,
    registry: Registry,
    concurrency: Mapping[str, int],
    only: set[str] | None = None,
) -> list[str]:
    """Start a worker per registered job (optionally only `only`); returns the queue names."""
    started = []
    for entry in registry:
        if only is not None and entry.name not in only:
            continue
        count = concurrency.get(entry.name, entry.concurrency)
        await queue.work(
            entry.name,
            entry.handler,
            concurrency=count,
            batch_size=entry.batch_size,
            batch_window=entry.batch_window,
        )
        started.append(entry.name)
    return started


async def run(
    queue: JobQueue,
    registry: Registry,
    concurrency: Mapping[str, int],
    *,
    grace: float,
    only: set[str] | None = None,
    stop: asyncio.Event | None = None,
    log: logging.Logger | None = None,
) -> bool:
    """Start workers and block until `stop` is set or SIGTERM/SIGINT arrives, then drain.

    Returns False when the drain gave up on unfinished work at its deadline (see
    `JobQueue.stop`): the caller should then exit without waiting for anything else."""
    log = log or logging.getLogger("fluffymail.worker")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await prepare(queue, registry)
    names = await start_workers(queue, registry, concurrency, only)
    log.info(
        "worker started",
        extra={"action": "worker.started", "queues": ",".join(names), "worker": queue.worker_id},
    )
    await stop.wait()
    log.info("worker stopping", extra={"action": "worker.stopping", "grace": grace})
    clean = await queue.stop(grace=grace)
    log.info("worker stopped", extra={"action": "worker.stopped", "clean": clean})
    return clean
