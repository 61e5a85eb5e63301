"""Connections over the API: the caller's own only (404 for anyone else's), and "sync now"."""

from __future__ import annotations

import httpx

from fluffymail.queue import JobQueue
from tests.integration.web.conftest import User


async def test_list_and_get__own_connections(client: httpx.AsyncClient, alice: User, make_connection) -> None:
    first = await make_connection(alice, "/mail/a.mbox", "Archive")
    second = await make_connection(alice, "/mail/b.mbox")
    listed = (await client.get("/api/connections", headers=alice.auth)).json()
    assert [c["id"] for c in listed] == [second, first]
    assert listed[1]["display_name"] == "Archive" and listed[1]["status"] == "ok"
    assert "cursor" not in listed[0] and "credentials" not in listed[0]
    detail = (await client.get(f"/api/connections/{first}", headers=alice.auth)).json()
    assert detail["id"] == first and detail["recent_jobs"] == []


async def test_sync__sends_a_job_and_schedules_every_15_minutes(
    client: httpx.AsyncClient, alice: User, make_connection, jobs: JobQueue
) -> None:
    connection_id = await make_connection(alice)
    response = await client.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert response.status_code == 202
    body = response.json()
    assert body["connection_id"] == connection_id and body["schedule"] == "*/15 * * * *"
    job = await jobs.get_job(body["job_id"])
    assert job is not None and job.name == "sync-emails"
    assert job.data == {"connection_id": connection_id, "user_id": alice.account.id, "full": False}
    assert job.singleton_key == f"connection-{connection_id}"
    queue_options = (await jobs.get_queues())["sync-emails"]
    assert queue_options.policy == "stately" and queue_options.retry_limit == 5
    [schedule] = await jobs.get_schedules()
    assert (schedule["name"], schedule["key"], schedule["cron"]) == (
        "sync-emails", f"connection-{connection_id}", "*/15 * * * *")
    assert schedule["data"] == {"connection_id": connection_id, "user_id": alice.account.id}
    again = await client.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert again.status_code == 202 and again.json()["job_id"] is None  # already queued
    assert len(await jobs.get_schedules()) == 1
    detail = (await client.get(f"/api/connections/{connection_id}", headers=alice.auth)).json()
    assert [j["id"] for j in detail["recent_jobs"]] == [body["job_id"]]


async def test_isolation__another_users_connection_is_404_everywhere(
    client: httpx.AsyncClient, alice: User, bob: User, make_connection, jobs: JobQueue
) -> None:
    alices = await make_connection(alice)
    await client.post(f"/api/connections/{alices}/sync", headers=alice.auth)
    job_id = (await jobs.find_jobs(name="sync-emails"))[0].id
    assert (await client.get("/api/connections", headers=bob.auth)).json() == []
    for method, path in [("GET", f"/api/connections/{alices}"),
                         ("POST", f"/api/connections/{alices}/sync"),
                         ("GET", "/api/connections/999999")]:
        response = await client.request(method, path, headers=bob.auth)
        assert response.status_code == 404, path
        assert response.json() == {"error": {"code": "not_found",
                                             "message": response.json()["error"]["message"]}}
    # Bob's probe neither sent a job nor changed a schedule; the job routes are closed to him.
    assert [j.id for j in await jobs.find_jobs(name="sync-emails")] == [job_id]
    assert len(await jobs.get_schedules()) == 1
    for method, path in [("GET", f"/api/jobs/{job_id}"), ("POST", f"/api/jobs/{job_id}/cancel"),
                         ("GET", "/api/jobs")]:
        assert (await client.request(method, path, headers=bob.auth)).status_code == 403
    # and Bob's own connection shows none of Alice's jobs
    bobs = await make_connection(bob, "/mail/b.mbox")
    detail = (await client.get(f"/api/connections/{bobs}", headers=bob.auth)).json()
    assert detail["recent_jobs"] == []
