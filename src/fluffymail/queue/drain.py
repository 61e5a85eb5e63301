"""Drain and exit: work a registry's queues until nothing is due or a time budget is spent.

The serverless runner (a platform starts it on a schedule or a trigger). For its lifetime it is
an ordinary queue process: it renews a worker row, rescues dead workers' attempts, takes the
leader lease when free (firing the due schedule ticks, pruning) and claims with `SKIP LOCKED`,
so drain runs, and long-running workers, can overlap freely. Imports only the queue and leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fluffymail.queue.client import JobQueue
from fluffymail.queue.registry import Registry
from fluffymail.queue.runner import prepare
from fluffymail.queue.worker import Worker

TICK = 0.02  # seconds between looks at whether every worker is idle (in memory, no query)
MIN_STATUS_SECONDS = 0.5  # the closing status query may overrun the budget by this much


@dataclass(frozen=True, slots=True, kw_only=True)
class DrainOptions:
    """The run's budget: it ends, stop included, within `seconds`.

    Claims stop `grace + timeout` before the end; running jobs then get `grace` seconds, and
    the releases `timeout`. Both are capped at a quarter of the budget each."""

    seconds: float
    grace: float = 20.0
    timeout: float = 5.0

    @property
    def stop_grace(self) -> float:
        return min(self.grace, self.seconds / 4)

    @property
    def stop_timeout(self) -> float:
        return min(self.timeout, self.seconds / 4)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeft:
    """One queue at the end of a run."""

    due: int  # jobs due now that nobody took (released ones included)
    active: int  # running, here or on other workers
    next_due: datetime | None  # the next deferred job or schedule tick
    paused: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DrainReport:
    """What a drain run did and what it leaves."""

    done: Mapping[str, int]
    failed: Mapping[str, int]
    left: Mapping[str, QueueLeft]
    out_of_time: bool  # the budget, not empty queues, ended the claims
    interrupted: bool  # a stop signal (SIGTERM, SIGINT) ended them
    clean: bool  # everything finished, acked or released (False: abandoned at the deadline)
    leader: bool
    fired: int  # schedule ticks fired
    rescued: int  # dead workers' attempts given back
    seconds: float

    @property
    def due_left(self) -> int:
        return sum(q.due for q in self.left.values() if not q.paused)

    @property
    def work_left(self) -> bool:
        """Jobs are due that this run could not get to: trigger another one soon."""
        return (self.out_of_time or self.interrupted) and self.due_left > 0

    @property
    def next_due(self) -> datetime | None:
        times = [q.next_due for q in self.left.values() if q.next_due is not None]
        return min(times, default=None)

    def summary(self) -> str:
        """One line: jobs done per queue, left over, the next due time."""
        done = ", ".join(f"{name}={n}" for name, n in sorted(self.done.items()) if n) or "none"
        failed = sum(self.failed.values())
        nxt = self.next_due.isoformat(timespec="seconds") if self.next_due else "none"
        ending = (
            "stopped"
            if self.interrupted
            else "budget spent"
            if self.out_of_time
            else "queues empty"
        )
        return (
            f"drain: {ending} after {self.seconds:.1f}s; done {done}"
            f"{f'; failed {failed}' if failed else ''}; left {self.due_left} due"
            f"; next due {nxt}; leader={'yes' if self.leader else 'no'}"
            f" ticks={self.fired} rescued={self.rescued}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able values (HTTP and function-platform answers)."""
        return {
            "done": dict(self.done),
            "failed": dict(self.failed),
            "due_left": self.due_left,
            "work_left": self.work_left,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "out_of_time": self.out_of_time,
            "interrupted": self.interrupted,
            "clean": self.clean,
            "leader": self.leader,
            "ticks_fired": self.fired,
            "rescued": self.rescued,
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class _Tally:
    """Counts the run's outcomes per queue from the queue's events."""

    done: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)

    def completed(self, job: Any, **_: Any) -> None:
        self.done[job.name] += 1

    def lost(self, job: Any, **_: Any) -> None:
        self.failed[job.name] += 1


async def drain(
    queue: JobQueue,
    registry: Registry,
    concurrency: Mapping[str, int],
    options: DrainOptions,
    *,
    only: set[str] | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    log: logging.Logger | None = None,
) -> DrainReport:
    """Work the registered queues (or `only` those) until none has a job due, or the budget in
    `options` is spent; then stop, releasing what did not finish. See `DrainReport`."""
    log = log or logging.getLogger("fluffymail.worker")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    began = loop.time()
    claim_until = began + options.seconds - options.stop_grace - options.stop_timeout
    if handle_signals:
        _on_signals(loop, stop)
    tally = _Tally()
    queue.on("completed", tally.completed)
    queue.on("failed", tally.lost)
    queue.on("retried", tally.lost)
    try:
        await prepare(queue, registry)
        await queue.start(upkeep_first=True)
        workers = await _start(queue, registry, concurrency, only)
        log.info(
            "drain started", extra={"action": "worker.drain_started", "worker": queue.worker_id}
        )
        emptied = await _until_empty(workers, stop, claim_until)
        interrupted = not emptied and stop.is_set()
        out_of_time = not emptied and not interrupted
        leader = queue.maintenance.is_leader
        clean = await queue.stop(
            grace=options.stop_grace, stop_timeout=options.stop_timeout, out_of_time=out_of_time
        )
    except BaseException:
        # The database failed us (or we were cancelled): leave nothing running behind.
        with contextlib.suppress(Exception):
            await queue.stop(grace=0, stop_timeout=options.stop_timeout)
        raise
    finally:
        queue.events.off("completed", tally.completed)
        queue.events.off("failed", tally.lost)
        queue.events.off("retried", tally.lost)
    seconds_left = began + options.seconds - loop.time()
    left = await _status(queue, [worker.name for worker in workers], seconds_left, log)
    return DrainReport(
        done=dict(tally.done),
        failed=dict(tally.failed),
        left=left,
        out_of_time=out_of_time,
        interrupted=interrupted,
        clean=clean,
        leader=leader,
        fired=queue.maintenance.fired,
        rescued=queue.rescued,
        seconds=loop.time() - began,
    )


def _on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT end the claims early (a platform's stop), where the loop can take them."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)


async def _start(
    queue: JobQueue, registry: Registry, concurrency: Mapping[str, int], only: set[str] | None
) -> list[Worker]:
    return [
        await queue.work(
            entry.name,
            entry.handler,
            concurrency=concurrency.get(entry.name, entry.concurrency),
            batch_size=entry.batch_size,
            batch_window=entry.batch_window,
        )
        for entry in registry
        if only is None or entry.name in only
    ]


async def _until_empty(workers: list[Worker], stop: asyncio.Event, claim_until: float) -> bool:
    """Wait until every worker is idle and one more look in every queue claims nothing (True),
    or until `claim_until` / `stop` (False). The extra look catches the jobs a handler sent
    to another queue whose worker had gone idle before the NOTIFY arrived; a run that claimed
    nothing ran no handler, and skips it (one statement per queue less on an empty run)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set() and loop.time() < claim_until:
        if all(worker.idle for worker in workers):
            rounds = [worker.rounds for worker in workers]
            claimed = sum(worker.claimed for worker in workers)
            if claimed == 0:
                return True
            for worker in workers:
                worker.wake()
            looked = await _wait_for(_looked(workers, rounds), stop, claim_until)
            if looked and sum(worker.claimed for worker in workers) == claimed:
                if all(worker.idle for worker in workers):
                    return True
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK)
    return False


def _looked(workers: list[Worker], rounds: list[int]) -> Callable[[], bool]:
    """Whether every worker made a round trip since `rounds` were taken."""
    return lambda: all(w.rounds > r for w, r in zip(workers, rounds, strict=True))


async def _wait_for(predicate: Callable[[], bool], stop: asyncio.Event, until: float) -> bool:
    loop = asyncio.get_running_loop()
    while not predicate():
        if stop.is_set() or loop.time() >= until:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK)
    return True


async def _status(
    queue: JobQueue, names: list[str], seconds: float, log: logging.Logger
) -> dict[str, QueueLeft]:
    """What the run leaves in its queues ({} when the database does not answer in time: within
    what is left of the budget, at least MIN_STATUS_SECONDS)."""
    try:
        rows = await asyncio.wait_for(
            queue.store.drain_status(names), max(seconds, MIN_STATUS_SECONDS)
        )
    except Exception as exc:
        log.warning(
            "could not read what the drain run left",
            extra={"action": "worker.drain_status_error", "error": repr(exc)},
        )
        return {}
    return {
        row["name"]: QueueLeft(
            due=int(row["due"]),
            active=int(row["active"]),
            next_due=row["next_due"],
            paused=bool(row["paused"]),
        )
        for row in rows
    }
