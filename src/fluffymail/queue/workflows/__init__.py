"""Durable workflows on the queue's tables and workers; knows nothing of mail or contacts.

    wf = Workflows(queue)

    @wf.define("import-mailbox", version=1, retry_limit=2, step_retry_limit=3)
    async def import_mailbox(step: Step, args: dict) -> Any:
        page = await step.run("fetch", fetch_page, args["id"])        # memoized
        await step.sleep("pause", "2 hours")                            # holds no slot
        synced = await step.wait_for_event("synced", event="mail.synced",
                                           match={"connection_id": 7}, timeout="1 day")
        kids = await step.invoke_many("kids", "extract", [{"page": p} for p in page])
        group = await step.group("pieces")        # jobs sent into it by later steps ...
        await step.run("send", send_pieces, group)  # ... wf.add_children(group, "q", specs, conn=c)
        return await step.join("pieces")           # waits (no slot) for every one of them

    run_id = await wf.start("import-mailbox", {"id": 7}, cancel_on=[{"event": "import.cancel"}])
    await wf.work("import-mailbox", concurrency=4)

A run is a job of the queue named after its workflow (`jobs show <id>` lists its steps). Each
step's result is stored when it completes (one INSERT); a resumed run (after a crash, a retry,
a sleep, an event) loads its step rows in one SELECT and completed steps return their stored
result without running again. Waiting (sleep, wait_for_event, invoke) moves the run's job back
to 'retry' until it is due or woken: no slot is held.

Versioning rule: a run records the version of its workflow when it starts. A worker whose code
has another version refuses to resume it: the run fails for good with `WorkflowVersionError`
(never silently replayed into changed code). Within one version, the code must ask for the
same steps in the same order on every replay; a step asked under another name, kind or
position than the run recorded also fails the run with `WorkflowVersionError`
(non-determinism). To change a workflow: bump `version`, and let workers of the old version
finish the old runs (or cancel them and start new ones).
"""

from fluffymail.queue.workflows.engine import Workflows
from fluffymail.queue.workflows.errors import (
    StepFailedError,
    UnknownWorkflowError,
    WorkflowError,
    WorkflowVersionError,
)
from fluffymail.queue.workflows.models import Group, Run, RunSummary, StepInfo
from fluffymail.queue.workflows.step import Step

__all__ = [
    "Group",
    "Run",
    "RunSummary",
    "Step",
    "StepFailedError",
    "StepInfo",
    "UnknownWorkflowError",
    "WorkflowError",
    "WorkflowVersionError",
    "Workflows",
]
