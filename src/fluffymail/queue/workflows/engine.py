"""`Workflows`: defines workflow kinds, starts runs, delivers events and executes runs as jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fluffymail.queue import validate
from fluffymail.queue.job import Job, JobState
from fluffymail.queue.outcomes import Settled, Snooze
from fluffymail.queue.store import Conn
from fluffymail.queue.worker import Worker, describe_error
from fluffymail.queue.workflows.errors import (
    StepFailedError,
    UnknownWorkflowError,
    WorkflowVersionError,
)
from fluffymail.queue.workflows.models import Group, Run, RunSummary, StepInfo
from fluffymail.queue.workflows.step import LeaseLost, Policy, RunState, Step, Suspend
from fluffymail.queue.workflows.store import WorkflowStore

if TYPE_CHECKING:
    from fluffymail.queue.client import JobQueue

WorkflowFn = Callable[[Step, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    """A workflow kind: its function, version, and the options of its queue and steps."""

    name: str
    fn: WorkflowFn
    version: int
    step_policy: Policy
    queue_options: dict[str, Any]
    payload: str = "envelope"  # envelope: data {"args", "v"}; data: the data is the args

    def unpack(self, data: Any) -> tuple[Any, Any]:
        """The run's (args, version) from its job's data."""
        if self.payload == "data":
            return data, (data.get("v", 1) if isinstance(data, dict) else 1)
        envelope = data if isinstance(data, dict) else {}
        return envelope.get("args"), envelope.get("v")

    def pack(self, args: Any) -> Any:
        if self.payload == "data":
            if not isinstance(args, dict):
                raise ValueError(f"workflow {self.name!r} takes a JSON object as its args")
            return {**args, "v": self.version}
        return {"args": args, "v": self.version}


class Workflows:
    """Durable workflows on a `JobQueue`: each run is a job of the queue named after its workflow.

    Args:
        queue: the JobQueue whose tables and workers the runs use.
    """

    def __init__(self, queue: JobQueue, log: logging.Logger | None = None) -> None:
        self.queue = queue
        self.store = WorkflowStore(queue.store)
        self.log = log or logging.getLogger("fluffymail.queue.workflows")
        self._defs: dict[str, Definition] = {}
        self._ready: set[str] = set()
        self._running: dict[int, asyncio.Task[Any]] = {}  # runs executing in this process

    # -- definitions -----------------------------------------------------------------------

    def define(
        self,
        name: str,
        *,
        version: int = 1,
        step_retry_limit: int = 3,
        step_retry_delay: float = 1.0,
        payload: str = "envelope",
        **queue_options: Any,
    ) -> Callable[[WorkflowFn], WorkflowFn]:
        """Register `async def fn(step, args)` as workflow `name` (a decorator).

        `queue_options` (retry_limit, retry_delay, dead_letter, expire_seconds, ...) apply to
        the run's job: an uncaught error fails the run's attempt, retried per them.
        `payload="data"`: the job's data is the args (a JSON object) and its "v" key the version
        (absent: 1), so a plain `queue.send(name, {...})` or a cron schedule starts a run too;
        its producers put "v" in when the version is bumped."""
        if payload not in ("envelope", "data"):
            raise ValueError(f'payload is "envelope" or "data", got {payload!r}')
        validate.queue_name(name)
        validate.integer(version, "version", 1)
        validate.integer(step_retry_limit, "step_retry_limit", 0)

        def register(fn: WorkflowFn) -> WorkflowFn:
            if name in self._defs:
                raise ValueError(f"workflow {name!r} is defined twice")
            policy = Policy(retry_limit=step_retry_limit, retry_delay=step_retry_delay)
            self._defs[name] = Definition(
                name=name,
                fn=fn,
                version=version,
                step_policy=policy,
                queue_options=queue_options,
                payload=payload,
            )
            return fn

        return register

    def names(self) -> list[str]:
        return list(self._defs)

    def _definition(self, name: str) -> Definition:
        try:
            return self._defs[name]
        except KeyError:
            raise UnknownWorkflowError(name) from None

    async def setup(self, names: Sequence[str] | None = None) -> None:
        """Create (or update) the queues of the workflows (all by default); done once each."""
        for name in names if names is not None else list(self._defs):
            if name not in self._ready:
                await self.queue.create_queue(name, **self._definition(name).queue_options)
                self._ready.add(name)

    # -- runs ------------------------------------------------------------------------------

    async def start(
        self,
        name: str,
        args: Any = None,
        *,
        conn: Conn | None = None,
        cancel_on: Sequence[dict[str, Any]] | None = None,
        **options: Any,
    ) -> int | None:
        """Start a run of workflow `name` with `args` (JSON); its id (the run's job id), or None
        when a singleton option deduplicated it. In `conn`'s transaction when given.

        `cancel_on`: `[{"event": "import.cancel", "match": {"id": 7}}, ...]`: a matching event
        (`send_event`) cancels the run. `options`: job options (start_after, singleton_key, ...)."""
        definition = self._definition(name)
        await self.setup([name])
        rules = [_rule(rule) for rule in cancel_on or ()]
        data = definition.pack(args)
        if not rules:
            return await self.queue.send(name, data, conn=conn, **options)
        if conn is not None:
            return await self._start_with_rules(name, data, rules, conn, options)
        async with self.queue.pool.connection() as own, own.transaction():
            return await self._start_with_rules(name, data, rules, own, options)

    async def start_many(
        self, name: str, args: Sequence[Any], *, conn: Conn | None = None, **options: Any
    ) -> list[int]:
        """Start one run of `name` per item of `args` in one round trip; their ids."""
        definition = self._definition(name)
        await self.setup([name])
        data = [definition.pack(item) for item in args]
        return await self.queue.insert(name, data, conn=conn, options=options or None)

    async def _start_with_rules(
        self,
        name: str,
        data: dict[str, Any],
        rules: list[dict[str, Any]],
        conn: Conn,
        options: dict[str, Any],
    ) -> int | None:
        run_id = await self.queue.send(name, data, conn=conn, **options)
        if run_id is not None:
            await self.store.add_cancel_on(run_id, rules, conn)
        return run_id

    async def send_event(self, event: str, data: Any = None, *, conn: Conn | None = None) -> int:
        """Wake every run waiting for `event` whose `match` is contained in `data` (each once),
        and cancel the runs whose cancel_on rule matches; how many. With `conn`, in its
        transaction: a rollback wakes nobody."""
        event = validate.text(event, "event")
        return await self.store.send_event(event, {} if data is None else data, conn)

    async def cancel(self, run_id: int | Sequence[int]) -> list[int]:
        """Cancel runs and their child runs; a step running now is cancelled: its task gets
        `CancelledError` at once in this process, elsewhere when that worker's next heartbeat
        finds the lease gone."""
        cancelled = await self.store.cancel(validate.job_ids(run_id))
        for run in cancelled:
            if (task := self._running.get(run)) is not None:
                task.cancel()
        return cancelled

    async def get(self, run_id: int) -> Run | None:
        """The run with its steps, or None if there is no such job."""
        job = await self.queue.get_job(run_id)
        if job is None:
            return None
        definition = self._defs.get(job.name)
        return _run(job, await self.steps(run_id), definition)

    async def unfinished(self, limit: int = 20) -> list[RunSummary]:
        """The newest runs not finished yet (of every workflow), newest first."""
        return [RunSummary.from_mapping(row) for row in await self.store.unfinished(limit)]

    async def steps(self, run_id: int) -> list[StepInfo]:
        """The step rows of a run (its cancel_on rules last); [] for a job that is no run."""
        return [StepInfo.from_mapping(row) for row in await self.store.steps(run_id)]

    async def add_children(
        self, group: Group, queue: str, specs: Sequence[dict[str, Any]], *, conn: Conn
    ) -> list[int]:
        """Send jobs into `group` of a run, in `conn`'s transaction: `specs` as for
        `queue.insert_many` (`{"data": {...}, ...options}`; data a JSON object). Their handler
        must finish them through `child_handler` (workflows' own runs do). Raises if the group
        is not open (never opened, or joined already). Their ids."""
        if not specs:
            return []
        records = []
        for spec in specs:
            data = spec.get("data")
            if not isinstance(data, dict):
                raise ValueError(f"a child job's data is a JSON object, got {data!r}")
            records.append({**spec, "data": {**data, "parent": group.to_data()}})
        ids = await self.queue.insert_many(queue, records, conn=conn)
        if len(ids) != len(records):
            raise ValueError("a child job of a group cannot be deduplicated (singleton options)")
        await self.store.add_children(group.run_id, group.name, ids, conn)
        return ids

    def child_handler(self, handler: Callable[[Job], Awaitable[Any]]) -> Callable[[Job], Any]:
        """Wrap a queue's handler so its jobs sent into a group (`add_children`) count in their
        run's join when they complete or fail for good; other jobs pass through unchanged."""

        async def handle(job: Job) -> Any:
            data = job.data
            if not (isinstance(data, dict) and isinstance(data.get("parent"), list)):
                return await handler(job)
            try:
                output = await handler(job)
            except (Snooze, Settled):  # the worker's outcomes: the job is not finished yet
                raise
            except Exception as exc:
                self.log.warning(
                    "child job failed",
                    extra={"action": "workflow.child_failed", "job_id": job.id, "kind": job.name,
                           "error": repr(exc)},
                )  # fmt: skip
                await self.store.fail(job.lease, describe_error(exc), final=False)
                raise Settled from exc
            await self.store.complete_child(job.lease, output)
            raise Settled

        return handle

    # -- workers ---------------------------------------------------------------------------

    async def work(
        self, name: str, *, concurrency: int = 1, batch_size: int | None = None
    ) -> Worker:
        """Execute runs of workflow `name` in this process, up to `concurrency` at once."""
        self._definition(name)
        await self.setup([name])
        return await self.queue.work(
            name, self.handle, concurrency=concurrency, batch_size=batch_size
        )

    async def handle(self, job: Job) -> Any:
        """Execute (or resume) one run: the job handler of every workflow queue."""
        definition = self._definition(job.name)
        data = job.data if isinstance(job.data, dict) else {}
        args, version = definition.unpack(job.data)
        if version != definition.version:
            await self._refuse(
                job, WorkflowVersionError(_version_message(job, version, definition))
            )
        state = await self._state(job, definition)
        task = asyncio.current_task()
        if task is not None:
            self._running[job.id] = task
        try:
            output = await definition.fn(Step(state), args)
        except Suspend as suspend:
            await self._suspend(job, suspend)
        except WorkflowVersionError as exc:
            await self._refuse(job, exc)
        except LeaseLost:
            raise Settled from None  # nothing of ours to record: the job moved on without us
        except StepFailedError as exc:
            await self.store.forget_failure(job.id, exc.step)  # the run's retry runs it again
            await self._failed(job, data, exc)
            raise
        except Exception as exc:
            await self._failed(job, data, exc)
            raise
        finally:
            self._running.pop(job.id, None)
        if "parent" in data:
            await self.store.complete_child(job.lease, output)
            raise Settled
        return output

    async def _state(self, job: Job, definition: Definition) -> RunState:
        if job.attempt > 1:  # attempts only grow: at the first there is nothing recorded yet
            recorded, now = await self.store.load(job.id)
        else:
            recorded, now = {}, datetime.now(UTC)
        return RunState(
            job=job,
            store=self.store,
            recorded=recorded,
            now=now,
            step_policy=definition.step_policy,
            versions={name: d.version for name, d in self._defs.items()},
        )

    async def _suspend(self, job: Job, suspend: Suspend) -> None:
        wait = suspend.wait
        if "records" in wait:
            await self.setup([wait["workflow"]])
            await self.store.invoke(
                job.lease, wait["workflow"], wait["records"], name=suspend.name, seq=suspend.seq
            )
        else:
            await self.store.suspend(
                job.lease,
                name=suspend.name,
                seq=suspend.seq,
                kind=suspend.kind,
                wake_at=wait.get("wake_at"),
                event=wait.get("event"),
                match=wait.get("match"),
            )
        raise Settled

    async def _refuse(self, job: Job, exc: WorkflowVersionError) -> None:
        """Fail the run for good: it must not replay its recorded steps into this code."""
        self.log.error(
            str(exc),
            extra={"action": "workflow.version_refused", "job_id": job.id, "kind": job.name},
        )
        await self.store.fail(job.lease, describe_error(exc), final=True)
        raise Settled

    async def _failed(self, job: Job, data: dict[str, Any], exc: Exception) -> None:
        """A child run's failure goes through our statement (its parent's fan-in counts it once
        it fails for good); a top-level run's through the worker as usual."""
        if "parent" in data:
            await self.store.fail(job.lease, describe_error(exc), final=False)
            raise Settled from exc


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(rule, dict) or "event" not in rule:
        raise ValueError(f'a cancel_on rule is {{"event": ..., "match": {{...}}}}, got {rule!r}')
    validate.json_text(rule.get("match") or {}, "match")
    return {"event": validate.text(rule["event"], "event"), "match": rule.get("match") or {}}


def _version_message(job: Job, version: Any, definition: Definition) -> str:
    return (
        f"run {job.id} of workflow {job.name!r} was started under version {version!r} "
        f"but this worker runs version {definition.version}: a run never replays its recorded "
        "steps into other code; it is failed (start a new run, or keep a worker with the old "
        "version until the old runs finish)"
    )


def _run(job: Job, steps: list[StepInfo], definition: Definition | None = None) -> Run:
    data = job.data if isinstance(job.data, dict) else {}
    if definition is not None:
        args, version = definition.unpack(job.data)
    else:
        args, version = data.get("args"), data.get("v")
    parent = data.get("parent")
    state = str(job.state)
    suspended = [s for s in steps if s.state in ("waiting", "sleeping") and s.kind != "cancel_on"]
    if job.state == JobState.RETRY and suspended:
        state = "sleeping" if suspended[0].kind == "sleep" else "waiting"
    return Run(
        id=job.id,
        name=job.name,
        version=version,
        state=state,
        args=args,
        output=job.output if job.state == JobState.COMPLETED else None,
        error=job.output if job.state == JobState.FAILED else None,
        parent_id=parent[0] if isinstance(parent, list) else None,
        steps=[s for s in steps if s.kind != "cancel_on"],
        cancel_on=[s for s in steps if s.kind == "cancel_on"],
    )
