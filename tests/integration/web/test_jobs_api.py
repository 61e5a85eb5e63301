"""Jobs administration over the API: admins only; every route's happy path and its refusals."""

from __future__ import annotations

import httpx
import pytest

from fluffymail.queue import JobQueue
from tests.integration.web.conftest import User, failed_job

ADMIN_ROUTES = [
    ("GET", "/api/jobs/stats", None),
    ("GET", "/api/jobs", None),
    ("GET", "/api/jobs/1", None),
    ("POST", "/api/jobs/1/retry", None),
    ("POST", "/api/jobs/1/cancel", None),
    ("POST", "/api/jobs/retry", {}),
    ("POST", "/api/jobs/cancel", {}),
    ("POST", "/api/queues/demo/pause", None),
    ("POST", "/api/queues/demo/resume", None),
    ("POST", "/api/queues/demo/redrive", None),
    ("GET", "/api/schedules", None),
    ("GET", "/api/workers", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_jobs_routes__refuse_non_admins(
    client: httpx.AsyncClient, alice: User, jobs: JobQueue, method: str, path: str, body: object
) -> None:
    await failed_job(jobs)
    response = await client.request(method, path, json=body, headers=alice.auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await jobs.get_job(1)).state == "failed"  # nothing changed


async def test_stats__counts_per_queue(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await failed_job(jobs)
    await jobs.send("demo", {"n": 2})
    body = (await client.get("/api/jobs/stats", headers=admin.auth)).json()
    [demo] = [q for q in body["queues"] if q["name"] == "demo"]
    assert demo["counts"]["failed"] == 1 and demo["counts"]["created"] == 1
    assert demo["available"] == 1 and demo["paused"] is False


async def test_list__filters_by_queue_state_and_key(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    failed_id = await failed_job(jobs)
    await jobs.create_queue("other")
    other_id = await jobs.send("other", {"x": 1})
    everything = (await client.get("/api/jobs", headers=admin.auth)).json()
    assert [job["id"] for job in everything] == [other_id, failed_id]
    failed = (await client.get("/api/jobs?state=failed", headers=admin.auth)).json()
    assert [job["id"] for job in failed] == [failed_id]
    by_queue = (await client.get("/api/jobs?queue=other&limit=5", headers=admin.auth)).json()
    assert [job["id"] for job in by_queue] == [other_id]
    by_key = (await client.get("/api/jobs?key=nope", headers=admin.auth)).json()
    assert by_key == []
    future = (await client.get("/api/jobs?since=2999-01-01T00:00:00Z", headers=admin.auth)).json()
    assert future == []


async def test_get__includes_attempts_with_the_error(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    job_id = await failed_job(jobs, message="disk full")
    body = (await client.get(f"/api/jobs/{job_id}", headers=admin.auth)).json()
    assert body["state"] == "failed" and body["queue"] == "demo"
    assert len(body["attempts"]) == 1
    assert "disk full" in str(body["attempts"][0]["error"])


async def test_retry__a_failed_job_then_409_when_not_failed(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    job_id = await failed_job(jobs)
    response = await client.post(f"/api/jobs/{job_id}/retry", headers=admin.auth)
    assert response.status_code == 200 and response.json()["state"] in ("retry", "created")
    again = await client.post(f"/api/jobs/{job_id}/retry", headers=admin.auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


async def test_cancel__a_queued_job(client: httpx.AsyncClient, admin: User, jobs: JobQueue) -> None:
    await jobs.create_queue("demo")
    job_id = await jobs.send("demo", {})
    response = await client.post(f"/api/jobs/{job_id}/cancel", headers=admin.auth)
    assert response.json() == {"id": job_id, "state": "cancelled"}


async def test_missing_job__404(client: httpx.AsyncClient, admin: User) -> None:
    for method, path in [
        ("GET", "/api/jobs/424242"),
        ("POST", "/api/jobs/424242/retry"),
        ("POST", "/api/jobs/424242/cancel"),
    ]:
        response = await client.request(method, path, headers=admin.auth)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


async def test_bulk_retry_and_cancel__by_filter(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await failed_job(jobs)
    await failed_job(jobs)
    retried = await client.post("/api/jobs/retry", json={"queue": "demo"}, headers=admin.auth)
    assert retried.json() == {"count": 2}
    cancelled = await client.post(
        "/api/jobs/cancel",
        json={"queue": "demo", "state": ["retry", "created"]},
        headers=admin.auth,
    )
    assert cancelled.json() == {"count": 2}
    nothing = await client.post("/api/jobs/retry", json={"queue": "elsewhere"}, headers=admin.auth)
    assert nothing.json() == {"count": 0}


async def test_pause_resume_and_unknown_queue(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await jobs.create_queue("demo")
    paused = await client.post("/api/queues/demo/pause", headers=admin.auth)
    assert paused.json() == {"queue": "demo", "paused": True, "redriven": None}
    stats = (await client.get("/api/jobs/stats", headers=admin.auth)).json()
    assert stats["queues"][0]["paused"] is True
    resumed = await client.post("/api/queues/demo/resume", headers=admin.auth)
    assert resumed.json()["paused"] is False
    missing = await client.post("/api/queues/nope/pause", headers=admin.auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_stats__a_timed_pause_shows_when_it_ends(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await jobs.create_queue("ai")
    await jobs.pause_queue("ai", 600)  # as a Snooze(pause_queue=True) after a shared 429 does
    [row] = (await client.get("/api/jobs/stats", headers=admin.auth)).json()["queues"]
    assert row["paused"] is False and row["paused_until"] is not None
    await client.post("/api/queues/ai/resume", headers=admin.auth)
    [row] = (await client.get("/api/jobs/stats", headers=admin.auth)).json()["queues"]
    assert row["paused_until"] is None


async def test_redrive__sends_dead_letters_back(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await jobs.create_queue("dead")
    await jobs.create_queue("work", retry_limit=0, dead_letter="dead")
    await jobs.send("work", {"n": 1})
    [job] = await jobs.fetch("work")
    await jobs.fail(job, RuntimeError("no"))
    response = await client.post("/api/queues/dead/redrive", json={"limit": 10}, headers=admin.auth)
    assert response.json() == {"queue": "dead", "paused": None, "redriven": 1}
    assert (await jobs.get_queue_stats("work"))["created"] == 1
    no_body = await client.post("/api/queues/dead/redrive", headers=admin.auth)
    assert no_body.json()["redriven"] == 0


async def test_schedules_and_workers(
    client: httpx.AsyncClient, admin: User, jobs: JobQueue
) -> None:
    await jobs.create_queue("demo")
    await jobs.schedule("demo", "*/5 * * * *", {"a": 1}, key="k")
    await jobs.store.register_worker("w1", "host-a", 42, ["demo"])
    schedules = (await client.get("/api/schedules", headers=admin.auth)).json()
    assert [(s["name"], s["key"], s["cron"]) for s in schedules] == [("demo", "k", "*/5 * * * *")]
    assert schedules[0]["next_tick"] is not None
    workers = (await client.get("/api/workers", headers=admin.auth)).json()
    assert [(w["id"], w["host"], w["pid"], w["queues"]) for w in workers] == [
        ("w1", "host-a", 42, ["demo"])
    ]
