"""What `Workflows.get` returns: a run and its steps, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class StepInfo:
    """One step of a run. `waiting_for`: what a sleeping or waiting step waits for (an event
    with its match and timeout, a time, or children), else None."""

    name: str
    kind: str
    state: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    output: Any = None
    error: Any = None
    waiting_for: dict[str, Any] | None = None
    children: int | None = None  # invoke, group: the jobs started (so far, for an open group)
    pending: int | None = None  # invoke, group: those not finished yet

    @classmethod
    def from_mapping(cls, row: dict[str, Any]) -> StepInfo:
        """Build from a `get_steps.sql` dict row."""
        return cls(
            name=row["name"],
            kind=row["kind"],
            state=row["state"],
            attempts=row["attempts"],
            started_at=row["started_on"],
            finished_at=row["finished_on"],
            output=row["output"],
            error=row["error"],
            waiting_for=_waiting_for(row),
            children=row.get("children"),
            pending=row.get("pending"),
        )


def _waiting_for(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["state"] not in ("waiting", "sleeping"):
        return None
    if row["kind"] in ("wait", "cancel_on"):
        return {"event": row["event"], "match": row["match"], "timeout_at": row["wake_at"]}
    if row["kind"] in ("invoke", "group"):
        return {"children": row["children"], "pending": row["pending"]}
    return {"until": row["wake_at"]}


@dataclass(frozen=True, slots=True)
class Group:
    """An open group of a run (`step.group`): `Workflows.add_children(group, ...)` sends jobs
    into it, in the sender's transaction, until the run joins it (`step.join`)."""

    run_id: int
    name: str

    def to_data(self) -> list[Any]:
        return [self.run_id, self.name]

    @classmethod
    def from_data(cls, data: Any) -> Group:
        run_id, name = data
        return cls(int(run_id), str(name))


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """A workflow run: its job's id, state and output, with its steps in the order run.

    `state`: the job's (created, active, completed, failed, cancelled, retry), or `sleeping` /
    `waiting` while it is suspended on a step. `cancel_on`: the run's open cancel rules."""

    id: int
    name: str
    version: int | None
    state: str
    args: Any
    output: Any = None
    error: Any = None
    parent_id: int | None = None
    steps: list[StepInfo] = field(default_factory=list)
    cancel_on: list[StepInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """A run not finished yet, as a list shows it: steps done of those asked so far, jobs
    done of those its fan-outs and groups started, and the step it is suspended on."""

    id: int
    name: str
    state: str  # its job's: created, retry (suspended or waiting to retry), active
    created_at: datetime
    steps_done: int
    steps_known: int
    children: int
    pending: int
    waiting_on: str | None

    @classmethod
    def from_mapping(cls, row: dict[str, Any]) -> RunSummary:
        values = dict(row)
        values["created_at"] = values.pop("created_on")
        return cls(**values)
