"""Background upkeep of a JobQueue process: liveness, leadership, the clock, pruning, rescue.

Every process registers itself and rescues jobs of dead workers (safe concurrently). One process
at a time holds the `leader` lease and runs the schedules and the pruner; if it dies, another
takes the lease once it expires (`leader_ttl` seconds).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from fluffymail.queue import cron
from fluffymail.queue.service import Loop
from fluffymail.queue.store import Store

LEADER = "leader"


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceOptions:
    rescue_interval: float = 5.0
    registry_interval: float = 5.0
    leader_ttl: float = 10.0
    schedule_interval: float = 1.0
    prune_interval: float = 60.0
    prune_batch: int = 5_000
    prune_batches_per_run: int = 20
    worker_stale_seconds: float = 60.0


class Maintenance:
    """The maintenance loops of one process; leader-only steps check `is_leader` each run."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        queues: Callable[[], list[str]],
        rescue: Callable[[], object],
        options: MaintenanceOptions,
        log: logging.Logger,
    ) -> None:
        self.store, self.worker_id, self.queues, self.options, self.log = (
            store,
            worker_id,
            queues,
            options,
            log,
        )
        self.is_leader = False
        leadership_interval = options.leader_ttl / 3
        self.loops = [
            Loop("queue.rescuer", rescue, options.rescue_interval, log),  # type: ignore[arg-type]
            Loop("queue.registry", self.register, options.registry_interval, log),
            Loop("queue.leadership", self.elect, leadership_interval, log),
            Loop("queue.scheduler", self.run_schedules, options.schedule_interval, log),
            Loop("queue.pruner", self.prune, options.prune_interval, log),
        ]

    def start(self) -> None:
        for loop in self.loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self.loops:
            await loop.stop()
        if self.is_leader:
            await self.store.release_lease(LEADER, self.worker_id)
            self.is_leader = False
        await self.store.delete_workers(self.worker_id, self.options.worker_stale_seconds)

    async def register(self) -> None:
        """Record that this process is alive; the leader also forgets silent workers."""
        await self.store.register_worker(
            self.worker_id, socket.gethostname(), os.getpid(), self.queues()
        )
        if self.is_leader:
            await self.store.delete_workers(None, self.options.worker_stale_seconds)

    async def elect(self) -> bool:
        """Take or renew the leader lease."""
        leader = await self.store.acquire_lease(LEADER, self.worker_id, self.options.leader_ttl)
        if leader != self.is_leader:
            self.log.info("leadership changed", extra={"action": "queue.leader", "leader": leader})
        self.is_leader = leader
        return leader

    async def run_schedules(self) -> int:
        """Send one job for each due schedule tick (leader only); returns how many were sent."""
        if not self.is_leader:
            return 0
        sent = 0
        for schedule in await self.store.schedules(due=True):
            sent += await self._fire(schedule)
        return sent

    async def _fire(self, schedule: dict[str, object]) -> int:
        expr, tz, now = str(schedule["cron"]), str(schedule["tz"]), schedule["db_now"]
        tick = cron.latest_tick(expr, tz, now)  # type: ignore[arg-type]
        following = cron.next_tick(expr, tz, tick)
        result = await self.store.fire_schedule(
            str(schedule["name"]), str(schedule["key"]), tick, following
        )
        if result is False:
            return 0
        self.log.info(
            "schedule fired",
            extra={
                "action": "queue.schedule_fired",
                "queue": schedule["name"],
                "key": schedule["key"],
                "tick": tick.isoformat(),
                "job_id": result,
            },
        )
        return 1

    async def prune(self) -> int:
        """Delete finished jobs past their retention in bounded batches (leader only)."""
        if not self.is_leader:
            return 0
        total = 0
        for _ in range(self.options.prune_batches_per_run):
            deleted = await self.store.prune(self.options.prune_batch)
            total += deleted
            if deleted < self.options.prune_batch:
                break
        if total:
            self.log.info("pruned finished jobs", extra={"action": "queue.pruned", "count": total})
        return total
