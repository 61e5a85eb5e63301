"""The CLI's composition root: settings -> database URL -> pool -> queue, opened and closed once."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.db import migrate
from fluffymail.db.pool import (
    database_url,
    migration_connection,
    open_pool,
    pooled,
    session_url,
)
from fluffymail.errors import ConfigError
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.queue.maintenance import MaintenanceOptions
from fluffymail.queue.registry import Registry
from fluffymail.queue.watchdog import WatchdogOptions


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    settings: Settings
    url: str
    pool: AsyncConnectionPool
    queue: JobQueue
    log: logging.Logger

    def deps(self) -> JobDeps:
        return JobDeps(settings=self.settings, pool=self.pool, queue=self.queue, log=self.log)


@contextlib.asynccontextmanager
async def open_context(
    settings: Settings, *, migrate_first: bool = False, name: str = "fluffymail"
) -> AsyncIterator[Context]:
    url = database_url(settings)
    pool = await open_pool(
        url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        name=name,
        pooler=pooled(settings),
    )
    listen_url = session_url(settings, url)
    try:
        if migrate_first:
            async with migration_connection(pool, settings.database_direct_url) as conn:
                await migrate.upgrade(conn)
        maintenance = MaintenanceOptions(
            rescue_interval=settings.rescue_interval, leader_ttl=settings.leader_ttl
        )
        queue = JobQueue(
            pool,
            poll_interval=settings.poll_interval,
            listen=listen_url is not None,  # behind a pooler without a direct URL: poll
            listen_url=listen_url,
            maintenance=maintenance,
            watchdog=WatchdogOptions(stall_seconds=settings.db_stall_seconds),
            shutdown_timeout=settings.shutdown_timeout,
        )
        yield Context(
            settings=settings,
            url=url,
            pool=pool,
            queue=queue,
            log=logging.getLogger(f"fluffymail.{name}"),
        )
    finally:
        await pool.close()


def load_registry_factory(spec: str) -> Callable[[JobDeps], Registry]:
    """Import `module:function` that builds a Registry from JobDeps."""
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr or "build_registry")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load job registry {spec!r}: {exc}") from exc
    if not callable(factory):
        raise ConfigError(f"job registry {spec!r} is not callable")
    return factory


def check_queues(registry: Registry, names: Iterable[str], *, option: str = "--queues") -> None:
    """Raise ConfigError for a queue named in `option` that no job kind has: a worker given
    only unknown names would start, work nothing and say nothing (a drain run: "queues
    empty", exit 0)."""
    known = sorted(entry.name for entry in registry)
    for name in names:
        if name not in registry:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown queue {name!r} in {option}{hint}; known: {', '.join(known)}"
            )


def check_worker_queues(registry: Registry, settings: Settings, asked: Iterable[str]) -> None:
    """`check_queues` on what sets this worker's queues: `--queues` when given (`asked`),
    else FLUFFYMAIL_QUEUES when it is set. A name the environment misspells would otherwise
    be ignored: its queue runs at its kind's own concurrency, whatever the setting said. The
    default is not checked: it names the built-in kinds, which another `--jobs` registry
    need not have."""
    names = list(asked)
    if names:
        check_queues(registry, names)
    elif "queues" in settings.model_fields_set:
        check_queues(registry, settings.queue_concurrency, option="FLUFFYMAIL_QUEUES")
