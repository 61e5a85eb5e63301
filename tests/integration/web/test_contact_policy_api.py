"""Issue 12, section 5 over HTTP: a connection's explanation and the people who wrote to the
user, adding them (all or none), and changing the contact policy with PATCH (a bad value is a
4xx with a reason and changes nothing; a good one sends the apply-contact-policy job)."""

from __future__ import annotations

from pathlib import Path

import httpx
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from tests.integration.web.conftest import User
from tests.integration.web.policy_seed import WROTE, seed_inbox


async def _policy(pool: AsyncConnectionPool, connection_id: int) -> str:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT contact_policy FROM crm.connections WHERE id = %s", (connection_id,)
        )
        return (await cur.fetchone())[0]  # type: ignore[index]


async def _visible(pool: AsyncConnectionPool) -> set[str]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT primary_address FROM crm.contacts WHERE created")
        return {r[0] for r in await cur.fetchall()}


async def test_people__explains_and_lists_who_wrote(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    connection = await seed_inbox(pool, alice.account.id, alice.account.email, tmp_path)

    listed = await client.get(f"/api/connections/{connection}/people", headers=alice.auth)

    assert listed.status_code == 200
    body = listed.json()
    assert body["summary"]["wrote"] == body["summary"]["waiting"] == body["total"] == 3
    assert body["summary"]["contacts"] == 0 and body["summary"]["automated"] == 1
    assert body["summary"]["explanation"].startswith(
        "3 people wrote to you; they become contacts once you write to them or when you add them"
    )
    assert [(p["address"], p["messages"]) for p in body["items"]] == list(WROTE.items())
    detail = await client.get(f"/api/connections/{connection}", headers=alice.auth)
    assert detail.json()["contact_policy"] == "sent"


async def test_people__add_is_all_or_none(
    client: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    jobs: JobQueue,
    tmp_path: Path,
) -> None:
    connection = await seed_inbox(pool, alice.account.id, alice.account.email, tmp_path)
    items = (await client.get(f"/api/connections/{connection}/people", headers=alice.auth)).json()[
        "items"
    ]
    ann, bob = items[0]["contact_id"], items[1]["contact_id"]
    url = f"/api/connections/{connection}/people"

    unknown = await client.post(url, json={"contact_ids": [ann, 999_999]}, headers=alice.auth)
    assert unknown.status_code == 404 and await _visible(pool) == set()
    for bad in ({"contact_ids": []}, {"contact_ids": ["x"]}, {"ids": [ann]}):
        refused = await client.post(url, json=bad, headers=alice.auth)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["message"]
    assert await _visible(pool) == set()

    added = await client.post(url, json={"contact_ids": [bob, ann]}, headers=alice.auth)

    assert added.status_code == 200 and added.json() == {"added": sorted([ann, bob])}
    assert await _visible(pool) == {"ann@acme.example", "bob@beta.example"}
    enriching = await jobs.find_jobs(name="enrich-contact", limit=10)
    assert sorted(j.data["contact_id"] for j in enriching) == sorted([ann, bob])
    left = (await client.get(url, headers=alice.auth)).json()
    assert [p["address"] for p in left["items"]] == ["cy@gamma.example"]
    assert left["summary"]["contacts"] == 2


async def test_patch_policy__validates_and_sends_the_job(
    client: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    jobs: JobQueue,
    tmp_path: Path,
) -> None:
    connection = await seed_inbox(pool, alice.account.id, alice.account.email, tmp_path)
    url = f"/api/connections/{connection}"

    for bad, status in (
        ({"contact_policy": "everyone"}, 422),
        ({"contact_policy": None}, 400),
        ({}, 400),
        ({"contact_policy": "sent", "extra": 1}, 422),
    ):
        refused = await client.patch(url, json=bad, headers=alice.auth)
        assert refused.status_code == status, (bad, refused.text)
        assert refused.json()["error"]["message"]
    reason = (await client.patch(url, json={"contact_policy": "x"}, headers=alice.auth)).json()
    assert "'sent', 'sent_and_received' or 'none'" in reason["error"]["message"]  # the choices
    assert await _policy(pool, connection) == "sent"
    assert not await jobs.find_jobs(name="apply-contact-policy", limit=10)

    changed = await client.patch(
        url, json={"contact_policy": "sent_and_received"}, headers=alice.auth
    )

    assert changed.status_code == 200
    assert changed.json()["contact_policy"] == "sent_and_received"
    job_id = changed.json()["policy_job_id"]
    [job] = await jobs.find_jobs(name="apply-contact-policy", limit=10)
    assert job.id == job_id and job.data == {
        "connection_id": connection,
        "user_id": alice.account.id,
    }
    assert await _policy(pool, connection) == "sent_and_received"
    same = await client.patch(url, json={"contact_policy": "sent_and_received"}, headers=alice.auth)
    assert same.json()["policy_job_id"] is None
    both = await client.patch(
        url, json={"contact_policy": "none", "visibility": "metadata"}, headers=alice.auth
    )
    assert both.json()["contact_policy"] == "none" and both.json()["visibility"] == "metadata"
