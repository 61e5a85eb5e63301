"""`Step`: what a workflow function calls to run, sleep, wait and fan out, each memoized.

A step found recorded returns its stored result without running again. A step that has to
wait (sleep, an event, child runs) raises `Suspend`, which the engine turns into one statement
that records the wait and gives the run's job slot back.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fluffymail.queue import validate
from fluffymail.queue.job import Job
from fluffymail.queue.options import parse_duration
from fluffymail.queue.worker import describe_error
from fluffymail.queue.workflows.errors import StepFailedError, WorkflowVersionError
from fluffymail.queue.workflows.models import Group
from fluffymail.queue.workflows.store import StepRow, WorkflowStore

_decode = json.JSONDecoder().decode


class Suspend(BaseException):
    """The run must wait on step `name`: raised through the workflow (user code catching
    `Exception` does not stop it) to the engine, which records the wait."""

    def __init__(self, name: str, seq: int, kind: str, **wait: Any) -> None:
        super().__init__(f"suspended on step {name!r}")
        self.name, self.seq, self.kind, self.wait = name, seq, kind, wait


class LeaseLost(BaseException):
    """The run's attempt no longer holds its job (cancelled, rescued): stop, record nothing."""


@dataclass(slots=True, kw_only=True)
class Policy:
    retry_limit: int
    retry_delay: float
    retry_backoff: bool = True


@dataclass(slots=True, kw_only=True)
class RunState:
    """What one execution of a run knows: its job, recorded steps and the steps asked so far."""

    job: Job
    store: WorkflowStore
    recorded: dict[str, StepRow]
    now: datetime  # the database's time at resume (or the worker's on a first attempt)
    step_policy: Policy
    versions: dict[str, int]  # workflow name -> version, for child runs
    seq: int = 0
    asked: set[str] = field(default_factory=set)
    groups: dict[str, int] = field(default_factory=dict)  # groups opened: name -> seq

    def claim(self, name: str, kind: str) -> tuple[int, StepRow | None]:
        """Take the next sequence number for step `name`; its recorded row, if any."""
        if not isinstance(name, str) or not name or name.startswith("$"):
            raise ValueError(f"a step needs a non-empty name not starting with '$', got {name!r}")
        if name in self.asked:
            raise ValueError(f"step name {name!r} is used twice in one run: names must be unique")
        self.asked.add(name)
        seq, self.seq = self.seq, self.seq + 1
        row = self.recorded.get(name)
        if row is not None and (row.seq != seq or row.kind != kind):
            raise WorkflowVersionError(
                f"run {self.job.id} of workflow {self.job.name!r} recorded step {name!r} as "
                f"{row.kind} step #{row.seq}, but the code now asks for it as {kind} step #{seq}: "
                "the workflow's code changed under a running run (non-determinism); bump its "
                "version and start new runs instead"
            )
        return seq, row


class Step:
    """The handle a workflow function receives; see the package docstring for the rules."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    @property
    def run_id(self) -> int:
        return self._state.job.id

    async def run(
        self,
        name: str,
        fn: Callable[..., Any],
        *args: Any,
        retry_limit: int | None = None,
        retry_delay: float | None = None,
    ) -> Any:
        """Run `fn(*args)` (sync or async) once: its JSON result is stored when it returns and
        given back on every replay. A failure is retried `retry_limit` times (default: the
        workflow's `step_retry_limit`) `retry_delay` seconds apart (doubling), then raised
        into the workflow as `StepFailedError`."""
        seq, row = self._state.claim(name, "run")
        policy = self._policy(retry_limit, retry_delay)
        return await self._run(name, seq, row, fn, args, policy)

    async def parallel(
        self, name: str, steps: Sequence[tuple[Any, ...]], *, retry_limit: int | None = None
    ) -> list[Any]:
        """Run `[(sub_name, fn, *args), ...]` concurrently, each a memoized step named
        `name.sub_name`; their results in order. A failed one raises `StepFailedError` once the
        others are done (and stored)."""
        policy = self._policy(retry_limit, None)
        calls = []
        for sub, fn, *args in steps:
            full = f"{name}.{sub}"
            seq, row = self._state.claim(full, "run")
            calls.append(self._run(full, seq, row, fn, tuple(args), policy))
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    async def sleep(self, name: str, duration: Any) -> None:
        """Pause the run for `duration` (seconds, timedelta, "2 hours") holding no worker slot."""
        seconds = parse_duration(duration, "sleep duration")
        await self.sleep_until(name, self._state.now + timedelta(seconds=seconds))

    async def sleep_until(self, name: str, when: datetime) -> None:
        """Pause the run until `when` (timezone-aware) holding no worker slot."""
        if when.tzinfo is None:
            raise ValueError("sleep_until needs a timezone-aware datetime")
        seq, row = self._state.claim(name, "sleep")
        if row is not None:
            if row.state == "completed" or (row.wake_at and row.wake_at <= self._state.now):
                return
            raise Suspend(name, seq, "sleep", wake_at=row.wake_at)
        if when <= self._state.now:
            return
        raise Suspend(name, seq, "sleep", wake_at=when)

    async def wait_for_event(
        self,
        name: str,
        *,
        event: str,
        match: dict[str, Any] | None = None,
        timeout: Any = None,  # noqa: ASYNC109
    ) -> Any:
        """Wait (holding no slot) for an event `event` whose data contains `match`; its data,
        or None once `timeout` (a duration) passes first."""
        seq, row = self._state.claim(name, "wait")
        if row is None:
            wake_at = None
            if timeout is not None:
                seconds = parse_duration(timeout, "timeout")
                wake_at = self._state.now + timedelta(seconds=seconds)
            validate.json_text(match or {}, "match")
            raise Suspend(name, seq, "wait", wake_at=wake_at, event=event, match=match or {})
        if row.state == "completed":
            return row.output
        if row.state == "waiting" and row.wake_at is not None and row.wake_at <= self._state.now:
            timed_out, output = await self._state.store.time_out(self.run_id, name)
            return None if timed_out else output
        raise Suspend(name, seq, "wait")

    async def invoke(self, name: str, workflow: str, args: Any = None) -> Any:
        """Run workflow `workflow` as a child run and return its output; the parent holds no
        slot meanwhile. A child that fails for good (or is cancelled) raises StepFailedError."""
        (output,) = await self._invoke(name, workflow, [args], kind="invoke")
        return output

    async def invoke_many(self, name: str, workflow: str, args: Sequence[Any]) -> list[Any]:
        """Fan out one child run per item of `args`; their outputs in order once the last one
        finishes (it wakes the parent: no polling)."""
        return await self._invoke(name, workflow, list(args), kind="invoke")

    async def group(self, name: str) -> Group:
        """Open a group: jobs sent into it (`Workflows.add_children`, in any step's
        transaction) count toward `join(name)`. For work whose pieces appear while a step runs
        (a sync's batches), where `invoke_many` needs the list up front."""
        seq, row = self._state.claim(name, "group")
        if row is None and not await self._state.store.open_group(
            self._state.job.lease, name=name, seq=seq
        ):
            raise LeaseLost(f"run {self.run_id} lost its lease while opening group {name!r}")
        self._state.groups[name] = seq
        return Group(self.run_id, name)

    async def join(self, name: str) -> dict[str, int]:
        """Close group `name` and wait (holding no slot; the last job wakes the run) until every
        job sent into it has finished; how many ended in each state (`{"children": n,
        "completed": c, ...}`). A failed job does not fail the run: the caller decides."""
        if name not in self._state.groups:
            raise ValueError(f"join({name!r}): no group of that name was opened in this run")
        seq, row = self._state.groups[name], self._state.recorded.get(name)
        state = row.state if row is not None else "open"
        if state == "completed":
            return row.output if row is not None else {}
        if state == "open":
            closed = await self._state.store.close_group(self._state.job.lease, name)
            if closed is None:
                raise LeaseLost(f"run {self.run_id} lost its lease while joining group {name!r}")
            state = closed
        if state != "ready":
            raise Suspend(name, seq, "group")
        summary = await self._state.store.group_summary(self.run_id, name)
        output = {"children": sum(summary.values()), **summary}
        await self._save_group(name, seq, output)
        return output

    # -- internals -------------------------------------------------------------------------

    def _policy(self, retry_limit: int | None, retry_delay: float | None) -> Policy:
        default = self._state.step_policy
        return Policy(
            retry_limit=default.retry_limit if retry_limit is None else retry_limit,
            retry_delay=default.retry_delay if retry_delay is None else retry_delay,
        )

    async def _run(
        self,
        name: str,
        seq: int,
        row: StepRow | None,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        policy: Policy,
    ) -> Any:
        if row is not None and row.state == "completed":
            return row.output
        if row is not None and row.state == "failed":
            raise StepFailedError(name, row.error)
        attempts, tries = (row.attempts if row else 0), 0
        while True:
            started, attempts, tries = datetime.now(UTC), attempts + 1, tries + 1
            try:
                result = fn(*args)
                if inspect.isawaitable(result):
                    result = await result
                encoded = validate.json_text(result, f"output of step {name!r}")
            except Exception as exc:
                error = describe_error(exc)
                final = tries > policy.retry_limit
                await self._save(
                    name, seq, "failed" if final else "error", attempts, started, None, error
                )
                if final:
                    raise StepFailedError(name, error) from exc
                await asyncio.sleep(
                    policy.retry_delay * (2 ** (tries - 1) if policy.retry_backoff else 1)
                )
                continue
            await self._save(name, seq, "completed", attempts, started, encoded, None)
            return None if result is None else _decode(encoded)

    async def _save(
        self,
        name: str,
        seq: int,
        state: str,
        attempts: int,
        started: datetime,
        output: str | None,
        error: Any,
    ) -> None:
        saved = await self._state.store.save_step(
            self._state.job.lease,
            name=name,
            seq=seq,
            kind="run",
            state=state,
            attempts=attempts,
            started_on=started,
            output=output,
            error=error,
        )
        if not saved:
            raise LeaseLost(f"run {self.run_id} lost its lease while recording step {name!r}")

    async def _invoke(self, name: str, workflow: str, args: list[Any], *, kind: str) -> list[Any]:
        seq, row = self._state.claim(name, kind)
        if row is None:
            if not args:
                return []
            if workflow not in self._state.versions:
                raise ValueError(f"invoke: unknown workflow {workflow!r} (define it first)")
            version = self._state.versions[workflow]
            records = [
                {"data": {"args": item, "v": version, "parent": [self.run_id, name]}}
                for item in args
            ]
            raise Suspend(name, seq, kind, workflow=workflow, records=records)
        if row.state == "completed":
            return row.output
        if row.state == "failed":
            raise StepFailedError(name, row.error)
        if row.state != "ready":
            raise Suspend(name, seq, kind)
        return await self._gather(name, seq, row)

    async def _gather(self, name: str, seq: int, row: StepRow) -> list[Any]:
        """Fan-in: read the children's outputs once, store them as the step's result."""
        children = await self._state.store.children(row.children or [])
        failed = [
            {"id": child_id, "state": state, "error": output}
            for child_id, state, output in children
            if state != "completed"
        ]
        if failed:
            error = {
                "type": "ChildRunFailed",
                "message": f"{len(failed)} child run(s) did not complete",
                "children": failed[:20],
            }
            await self._save_invoke(name, seq, "failed", None, error)
            raise StepFailedError(name, error)
        outputs = [output for _, _, output in children]
        await self._save_invoke(name, seq, "completed", validate.json_text(outputs), None)
        return outputs

    async def _save_group(self, name: str, seq: int, output: dict[str, int]) -> None:
        saved = await self._state.store.save_step(
            self._state.job.lease,
            name=name,
            seq=seq,
            kind="group",
            state="completed",
            attempts=1,
            started_on=None,
            output=validate.json_text(output),
        )
        if not saved:
            raise LeaseLost(f"run {self.run_id} lost its lease while recording step {name!r}")

    async def _save_invoke(
        self, name: str, seq: int, state: str, output: str | None, error: Any
    ) -> None:
        saved = await self._state.store.save_step(
            self._state.job.lease,
            name=name,
            seq=seq,
            kind="invoke",
            state=state,
            attempts=1,
            started_on=None,
            output=output,
            error=error,
        )
        if not saved:
            raise LeaseLost(f"run {self.run_id} lost its lease while recording step {name!r}")
