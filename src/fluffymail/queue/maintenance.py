"""Background upkeep of a JobQueue process: liveness, leadership, the clock, pruning, rescue.

Every process records that it is alive and rescues jobs of dead workers in one statement every
`rescue_interval` (safe concurrently; see rescue_jobs.sql). One process at a time holds the
`leader` lease and runs the schedules and the pruner (which also forgets long-silent workers);
if it dies, another takes the lease once it expires (`leader_ttl` seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fluffymail.queue import cron
from fluffymail.queue.service import Loop
from fluffymail.queue.store import Store, WorkerInfo

LEADER = "leader"


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceOptions:
    rescue_interval: float = 2.5  # also how often a process renews its worker row
    # A worker whose row is that old and whose liveness lock is gone is dead: its attempts are
    # rescued. (Issue 16: SIGKILL to jobs available again in under 10 s, where the per-job
    # heartbeat took 30.)
    worker_dead_seconds: float = 6.0
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
        me: Callable[[], WorkerInfo],
        rescue: Callable[[], Awaitable[object]],
        options: MaintenanceOptions,
        log: logging.Logger,
    ) -> None:
        self.store, self.worker_id, self.me, self.options, self.log = (
            store,
            worker_id,
            me,
            options,
            log,
        )
        self.is_leader = False
        self.fired = 0  # schedule ticks this process fired
        self.rescue = rescue
        leadership_interval = options.leader_ttl / 3
        self.loops = [
            Loop("queue.rescuer", rescue, options.rescue_interval, log),
            Loop("queue.leadership", self.elect, leadership_interval, log),
            Loop("queue.scheduler", self.run_schedules, options.schedule_interval, log),
            Loop("queue.pruner", self.prune, options.prune_interval, log),
        ]

    def start(self, *, wait_first: bool = False) -> None:
        for loop in self.loops:
            loop.start(wait_first=wait_first)

    async def run_once(self) -> None:
        """Every step once, in order: renew this process's row and rescue, take the leader
        lease, fire the due ticks, prune (a drain run's upkeep, before it claims anything)."""
        await self.rescue()
        await self.elect()
        await self.run_schedules()
        await self.prune()

    async def stop(self) -> None:
        for loop in self.loops:
            await loop.stop()
        if self.is_leader:
            await self.store.release_lease(LEADER, self.worker_id)
            self.is_leader = False
        await self.store.delete_workers(self.worker_id, self.options.worker_stale_seconds)

    async def register(self) -> None:
        """Record that this process is alive (the rescuer renews it from then on)."""
        me = self.me()
        await self.store.register_worker(me.id, me.host, me.pid, me.queues, me.locked)

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
        self.fired += sent
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
        """Delete finished jobs past their retention in bounded batches, and forget workers
        silent for `worker_stale_seconds` (leader only)."""
        if not self.is_leader:
            return 0
        await self.store.delete_workers(None, self.options.worker_stale_seconds)
        total = 0
        for _ in range(self.options.prune_batches_per_run):
            deleted = await self.store.prune(self.options.prune_batch)
            total += deleted
            if deleted < self.options.prune_batch:
                break
        if total:
            self.log.info("pruned finished jobs", extra={"action": "queue.pruned", "count": total})
        return total
