"""`GET /api/jobs/{id}` of a workflow run lists its steps (the jobs dashboard's detail)."""

from __future__ import annotations

from typing import Any

import httpx

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, Workflows
from tests.integration.test_workflows import in_state
from tests.integration.web.conftest import User


async def test_get__a_workflow_run_lists_its_steps(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    wf = Workflows(jobs)

    @wf.define("shown-run")
    async def shown(step: Step, args: Any) -> Any:
        await step.run("fetch", lambda: [1, 2])
        await step.sleep("pause", "1 hour")

    run_id = await wf.start("shown-run")
    assert run_id is not None
    await wf.work("shown-run")
    try:
        await in_state(wf, run_id, "sleeping")
    finally:
        await jobs.stop(grace=1)  # its worker and loops
    body = (await client.get(f"/api/jobs/{run_id}", headers=admin.auth)).json()
    fetch, pause = body["steps"]
    assert (fetch["name"], fetch["state"], fetch["output"]) == ("fetch", "completed", [1, 2])
    assert pause["state"] == "sleeping" and pause["waiting_for"]["until"]
