"""The workflow engine's exceptions: every one is a `QueueError`."""

from __future__ import annotations

from typing import Any

from fluffymail.queue.errors import QueueError


class WorkflowError(QueueError):
    """A durable workflow failed."""


class UnknownWorkflowError(WorkflowError, LookupError):
    """No workflow of that name is defined: define it with `Workflows.define` first."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown workflow {name!r}: define it with Workflows.define first")
        self.workflow = name


class WorkflowVersionError(WorkflowError):
    """A run cannot resume under this code: it was started under another version of its
    workflow, or the code asks for its steps in another order than the run recorded."""


class StepFailedError(WorkflowError):
    """A step failed after its retries (raised into the workflow at the step's call)."""

    def __init__(self, step: str, error: Any) -> None:
        message = error.get("message", error) if isinstance(error, dict) else error
        kind = f"{error['type']}: " if isinstance(error, dict) and "type" in error else ""
        super().__init__(f"step {step!r} failed: {kind}{message}")
        self.step = step
        self.error = error
