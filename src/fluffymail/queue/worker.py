"""One queue's worker: claims jobs, runs up to `concurrency` handlers, acknowledges results.

A single pump task does all database work: each round trip acknowledges the attempts that
finished since the last one *and* claims as many jobs as there is room for. It sleeps until a
handler finishes, a NOTIFY arrives, or the poll interval passes.

While handlers are short (recent mean under `PREFETCH_BELOW` seconds) the worker also claims
ahead of its free slots: about as many jobs as its slots finish during one round trip (at least
`batch_size`, at most `MAX_AHEAD_BATCHES` batches), so the database round trip, not the
handlers, sets the pace. Long-running jobs are never claimed ahead, where another worker could
start them sooner.

Claims mark no attempt as started: the worker records the attempts whose handlers are
running on its next round trip (with the acks and claims; while handlers are not short, at
once), so if it dies, the attempts it claimed ahead and never started go back to the queue
without spending a retry (issue 16). An attempt whose handler finished by then needs no mark
(its ack, failure or snooze records it), nor one whose task has not entered the handler yet
(it is marked on a later round trip if it is still running then): with short handlers, almost
no attempt costs a row update of its own. A claim whose reply never arrives (the connection broke
after it committed) is given back by this process's rescuer: see `synced`.

Per job the worker does as little as it can: one task, no timer of its own (a single timer per
worker fires at the earliest expiry among the running jobs), no event payloads when nobody
listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fluffymail.logging import bind
from fluffymail.queue import acks as ack_verdicts
from fluffymail.queue import validate
from fluffymail.queue.errors import JobExpiredError
from fluffymail.queue.events import Events
from fluffymail.queue.failures import FailBuffer
from fluffymail.queue.job import Job, Lease
from fluffymail.queue.outcomes import Settled, Snooze
from fluffymail.queue.store import MAX_CLAIM, Store

Handler = Callable[[Job], Awaitable[Any]]
PREFETCH_BELOW = 0.05  # seconds: handlers faster than this on average get jobs claimed ahead
MAX_AHEAD_BATCHES = 10


def _uncancel() -> int:
    """Withdraw one cancellation request from the current task; returns the ones left."""
    task = asyncio.current_task()
    return task.uncancel() if task is not None else 0


def describe_error(exc: BaseException) -> dict[str, Any]:
    """What is stored as a failed attempt's output: type, message and traceback (NULs and lone
    surrogates escaped: PostgreSQL could not store them, and the failure would go unrecorded)."""
    return {
        "type": type(exc).__name__,
        "message": validate.printable(str(exc)),
        "traceback": validate.printable("".join(traceback.format_exception(exc))[-8000:]),
    }


@dataclass(slots=True)
class Held:
    """A job this worker has claimed: running (with a task) or waiting for a free slot."""

    job: Job
    claimed: float
    last_beat: float
    task: asyncio.Task[None] | None = None
    in_handler: bool = False
    entered: bool = False  # the handler has been called (the attempt has started)
    expired: bool = False

    @property
    def deadline(self) -> float:
        """When (time.monotonic) the attempt expires: claimed + the job's expire_seconds."""
        return self.claimed + self.job.expire_seconds


class Worker:
    """Runs `handler` for jobs of queue `name`; see the module docstring for the loop."""

    def __init__(
        self,
        store: Store,
        name: str,
        handler: Handler,
        *,
        concurrency: int,
        batch_size: int,
        fetch_query: str,
        poll_interval: float,
        worker_id: str,
        events: Events,
        log: logging.Logger,
        only: Sequence[int] | None = None,
    ) -> None:
        self.store, self.name, self.handler = store, name, handler
        self.only = None if only is None else list(only)  # take these jobs only
        self.concurrency, self.batch_size, self.fetch_query = concurrency, batch_size, fetch_query
        self.poll_interval, self.worker_id = poll_interval, worker_id
        self.events, self.log = events, log
        self.held: dict[int, Held] = {}
        self._failures = FailBuffer(store)  # a failed batch's jobs: one statement
        self._waiting: deque[Held] = deque()
        self._late: list[Lease] = []
        self._active = 0
        self._mean_duration: float | None = None
        self._mean_round_trip = 0.002
        self._acks: list[tuple[Job, Any, float]] = []
        self._acking: list[tuple[Job, Any, float]] = []  # acks in the round trip in flight
        self._began: list[Held] = []  # attempts started and not yet marked
        self._synced: datetime | None = None
        self._retry_now = asyncio.Event()
        self.abandoned = 0  # jobs given up on at a shutdown deadline
        self.cut_off: list[Lease] = []  # attempts whose handlers stop() cancelled
        self.rounds = 0  # round trips done (a drain run waits for one to look again)
        self.claimed = 0  # jobs claimed so far
        self._signal = asyncio.Event()
        self._expiry: asyncio.TimerHandle | None = None
        self._expiry_at = math.inf
        self._wanted = True
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"queue.worker:{self.name}")

    def wake(self) -> None:
        self._wanted = True
        self._signal.set()

    async def stop(self, grace: float, deadline: float = math.inf) -> list[Lease]:
        """Stop claiming, give running jobs `grace` seconds, then cancel the rest.

        Returns the leases of the jobs that did not finish (or never started), for the caller
        to release back to the queue. Nothing holds it past `deadline` (loop.time()): a handler
        that ignores cancellation, or acks the database does not take, are then abandoned
        (counted in `abandoned`); their attempts are rescued once their heartbeat lapses.
        """
        loop = asyncio.get_running_loop()

        def left() -> float:
            return max(deadline - loop.time(), 0.0)

        self._stopping = True
        unstarted = [held.job.lease for held in self._waiting]
        for held in self._waiting:
            self.held.pop(held.job.id, None)
        self._waiting.clear()
        self._signal.set()
        running = [held for held in self.held.values() if held.task is not None]
        if running:
            await asyncio.wait(
                [held.task for held in running if held.task], timeout=min(grace, left())
            )
        unfinished = [held for held in running if held.task and not held.task.done()]
        for held in unfinished:
            assert held.task is not None
            held.task.cancel()
        if unfinished:  # half the time left: the acks and releases need the rest
            await asyncio.wait([held.task for held in unfinished if held.task], timeout=left() / 2)
        stuck = [held for held in unfinished if held.task and not held.task.done()]
        if stuck:
            self.log.error(
                "handlers ignored cancellation; abandoning them",
                extra={"action": "queue.handlers_stuck", "queue": self.name, "count": len(stuck)},
            )
            for held in stuck:
                self.held.pop(held.job.id, None)
            self._signal.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=left())
            if not done:
                self._task.cancel()
                self.abandoned += len(self._acks) + len(self._acking)
                self.log.error(
                    "could not acknowledge finished jobs before the shutdown deadline; they run "
                    "again once their heartbeat lapses",
                    extra={
                        "action": "queue.acks_abandoned",
                        "queue": self.name,
                        "count": len(self._acks) + len(self._acking),
                    },
                )
        self.abandoned += len(stuck)
        self.cut_off = [held.job.lease for held in unfinished]
        if self._expiry is not None:
            self._expiry.cancel()
        return unstarted + [held.job.lease for held in unfinished] + self._late

    @property
    def idle(self) -> bool:
        """Nothing held, nothing to acknowledge, and the last claim found the queue empty."""
        return (
            not (self.held or self._acks or self._acking or self._began or self._wanted)
            and not self._signal.is_set()
        )

    def holding(self) -> list[int]:
        """Ids of the attempts this worker still answers for: running, waiting to start, or
        finished and not yet acknowledged. The rescuer must leave them alone."""
        return [*self.held, *(job.id for job, _, _ in self._acks + self._acking)]

    @property
    def synced(self) -> datetime | None:
        """When (database time) the last claim statement whose reply this worker took started.
        Every attempt it claimed by then is held, finished, or was claimed by a statement whose
        reply was lost: those the rescuer gives back (rescue_jobs.sql). None before the first
        reply and once stopping (its unstarted attempts are released by `stop`'s caller)."""
        return None if self._stopping else self._synced

    def reconnected(self) -> None:
        """The database answers again: retry a failed round trip now, flushing the acks."""
        self._retry_now.set()
        self._signal.set()

    def lose(self, held: Held) -> None:
        """The lease of `held` is gone: stop its handler, or forget it if it never started."""
        if held.task is not None:
            held.task.cancel()
        elif held in self._waiting:
            self._waiting.remove(held)
            self.held.pop(held.job.id, None)

    # -- the pump ---------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            try:
                await self._pump()
                backoff = 0.0
            except Exception as exc:
                backoff = min(max(backoff * 2, 0.2), 5.0)
                self.log.warning(
                    "fetch failed; retrying",
                    extra={"action": "queue.fetch_error", "queue": self.name, "error": repr(exc)},
                )
                self.events.emit("error", error=exc, queue=self.name)
                self._retry_now.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._retry_now.wait(), backoff)
                continue
            if self._stopping and not self.held and not self._acks:
                return  # unsent marks do not matter now: unfinished attempts are released
            await self._wait()

    def _demand(self) -> int:
        if self._stopping or not self._wanted:
            return 0
        return min(self.concurrency + self._ahead() - len(self.held), MAX_CLAIM)

    def _ahead(self) -> int:
        """How many jobs to hold beyond the free slots (see the module docstring)."""
        mean = self._mean_duration
        if mean is None or mean >= PREFETCH_BELOW:
            return 0
        per_round_trip = math.ceil(self.concurrency * self._mean_round_trip / max(mean, 1e-4))
        return min(self.batch_size * MAX_AHEAD_BATCHES, max(self.batch_size, per_round_trip))

    async def _pump(self) -> None:
        acks, demand = self._acks, self._demand()
        marks, later = self._to_mark()
        self._began = later
        if not acks and demand <= 0 and not marks:
            return
        self._acks, self._acking = [], acks
        started = time.monotonic()
        try:
            fetched = await self.store.fetch(
                self.name,
                max(demand, 0),
                self.worker_id,
                query=self.fetch_query,
                acks=[job.lease for job, _, _ in acks],
                outputs=[out for _, out, _ in acks],
                began=[held.job.lease for held in marks],
                running=False,
                only=self.only,
            )
        except BaseException:
            self._acks = acks + self._acks  # acknowledged on the next round trip instead
            self._began = marks + self._began
            raise
        finally:
            self._acking = []
        now = time.monotonic()
        self.rounds += 1
        self.claimed += len(fetched.jobs)
        self._mean_round_trip = self._mean_round_trip * 0.8 + (now - started) * 0.2
        refused = self._report(acks, set(fetched.acked))
        for job in fetched.jobs:
            # claimed = when the claim was sent, not answered: the worker's expiry then falls
            # before the database's (started_on + expire_in), so the worker, not the rescuer,
            # reports an expired attempt
            self._hold(Held(job=job, claimed=started, last_beat=now))
        self._synced = fetched.started
        if demand > 0 and len(fetched.jobs) < demand and not acks:
            # Drained: wait for NOTIFY or the next poll. (After acks, look once more: slots our
            # acks freed under a per-key limit only show to the next statement.)
            self._wanted = False
        elif acks:
            self._signal.set()
        if refused:  # rare: look up why, so the log says what really happened
            await ack_verdicts.explain(self.store, refused, self.events, self.log)

    def _to_mark(self) -> tuple[list[Held], list[Held]]:
        """The started attempts to mark now (their handlers are running) and those to keep for
        a later round trip (their tasks have not entered the handler yet). Finished ones are
        dropped: an acked attempt needs no mark, and one statement must not update a row twice."""
        marks, later = [], []
        for held in self._began:
            if self.held.get(held.job.id) is held:
                (marks if held.entered else later).append(held)
        return marks, later

    async def _wait(self) -> None:
        if not self._signal.is_set():
            try:
                await asyncio.wait_for(self._signal.wait(), self.poll_interval)
            except TimeoutError:
                self._wanted = True
        self._signal.clear()

    def _report(
        self, acks: list[tuple[Job, Any, float]], acked: set[int]
    ) -> list[tuple[Job, Any, float]]:
        """Emit `completed` for the acks taken; return the others (see `acks.explain`)."""
        if len(acked) == len(acks) and not self.events.has("completed"):
            return []  # all accepted and nobody listening
        refused = []
        for ack in acks:
            job, output, duration = ack
            if job.id in acked:
                self.events.emit("completed", job=job, output=output, duration=duration)
            else:
                refused.append(ack)
        return refused

    # -- running one job --------------------------------------------------------------------

    def _hold(self, held: Held) -> None:
        if self._stopping:  # claimed by a round trip that was in flight when stop() began
            self._late.append(held.job.lease)
            return
        self.held[held.job.id] = held
        if self._active < self.concurrency:
            self._start(held)
        else:
            self._waiting.append(held)

    def _start(self, held: Held) -> None:
        self._active += 1
        self._began.append(held)
        held.task = asyncio.create_task(self._execute(held), name=f"job:{held.job.id}")
        if held.deadline < self._expiry_at:
            self._arm_expiry(held.deadline)

    # -- expiry: one timer per worker, at the earliest deadline of the running jobs ------------

    def _arm_expiry(self, deadline: float) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry_at = deadline
        delay = max(deadline - time.monotonic(), 0.0)
        self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        """Cancel the running jobs past their deadline; re-arm for the next earliest one."""
        self._expiry, self._expiry_at = None, math.inf
        now, earliest = time.monotonic(), math.inf
        for held in self.held.values():
            if not held.in_handler or held.expired or held.task is None:
                continue
            if held.deadline <= now:
                held.expired = True
                held.task.cancel()
            else:
                earliest = min(earliest, held.deadline)
        if earliest < math.inf:
            self._arm_expiry(earliest)

    def _finished(self, held: Held, duration: float) -> None:
        self._active -= 1
        self.held.pop(held.job.id, None)
        mean = self._mean_duration
        self._mean_duration = duration if mean is None else mean * 0.8 + duration * 0.2
        if self._waiting and not self._stopping:
            self._start(self._waiting.popleft())
        self._signal.set()

    async def _execute(self, held: Held) -> None:
        job, started = held.job, time.monotonic()
        with bind(job_id=job.id, queue=job.name, attempt=job.attempt):
            try:
                output = await self._call(held)
                if isinstance(output, Snooze):
                    raise output
            except Snooze as snooze:
                await self._snooze(job, snooze)
            except Settled:
                pass  # the handler recorded its attempt's end itself (workflows)
            except Exception as exc:
                await self._fail(job, exc, time.monotonic() - started)
            else:
                self._acks.append((job, output, time.monotonic() - started))
            finally:
                self._finished(held, time.monotonic() - started)

    async def _call(self, held: Held) -> Any:
        job = held.job
        held.in_handler = held.entered = True
        mean = self._mean_duration
        if mean is None or mean >= PREFETCH_BELOW:
            # Handlers are not short: record the start now rather than when one finishes, so
            # an attempt that started is not taken for one that never did if we die meanwhile.
            # (Short handlers finish within milliseconds: their acks stand for the marks.)
            self._signal.set()
        try:
            output = await self.handler(job)
        except asyncio.CancelledError:
            # Ours (the expiry timer) unless someone else also cancelled: then it propagates.
            if not held.expired or _uncancel() > 0:
                raise
            raise JobExpiredError(f"job ran past its expiry of {job.expire_seconds}s") from None
        finally:
            held.in_handler = False
        if held.expired:  # the handler swallowed our cancellation and finished anyway
            _uncancel()
        if output is not None and not isinstance(output, Snooze):
            # an output jsonb would refuse fails this attempt, not the whole batch of acks
            validate.json_text(output, "output")
        return output

    async def _snooze(self, job: Job, snooze: Snooze) -> None:
        try:
            if snooze.pause_queue:  # first, so no worker claims another job in between
                await self.store.pause_until(job.name, snooze.seconds)
            await self.store.snooze([job.lease], [snooze.seconds], pause_group=snooze.pause_group)
        except Exception as db_exc:
            self.log.error(
                "could not snooze", extra={"action": "queue.snooze_error", "error": repr(db_exc)}
            )
            return
        self.events.emit("snoozed", job=job, seconds=snooze.seconds)

    async def _fail(self, job: Job, exc: Exception, duration: float) -> None:
        error = describe_error(exc)
        self.log.warning(
            "job failed",
            extra={"action": "queue.job_failed", "error": f"{error['type']}: {error['message']}"},
        )
        try:
            rows = await self._failures.fail(job.lease, error)
        except Exception as db_exc:
            # The attempt stays active; the rescuer fails it once its heartbeat lapses.
            self.log.error(
                "could not record failure",
                extra={"action": "queue.fail_error", "error": repr(db_exc)},
            )
            return
        for _id, _name, state, _retries, dead_letter_id in rows:
            event = "retried" if state == "retry" else "failed"
            self.events.emit(
                event,
                job=job,
                error=error,
                duration=duration,
                dead_letter_id=dead_letter_id,
                exception=exc,
            )
