"""The "You" page's API: the caller's aliases and delegates with their evidence; rejecting an
alias gives it and its mail back to the person behind it; confirming makes it the caller's."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.identity_seed import AIDE, ALIAS, seed_identity


async def test_identity__lists_evidence_and_reject_then_confirm_moves_the_address(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_identity(pool, alice)
    body = (await client.get("/api/me/identity", headers=alice.auth)).json()
    assert [a["address"] for a in body["aliases"]] == [alice.account.email, ALIAS]
    own, alias = body["aliases"]
    assert own["is_account"] and own["reason"] == "the account's address"
    assert (alias["sent_messages"], alias["sent_total"], alias["decided_by"]) == (40, 120, "rule")
    (aide,) = body["delegates"]
    assert aide["address"] == AIDE and aide["kind"] == "delegate" and aide["contact_id"]
    contact = await client.get(f"/api/contacts/{aide['contact_id']}", headers=alice.auth)
    assert contact.json()["addresses"] == [  # what the delegate sent for the user, labelled
        {"address": AIDE, "is_primary": True, "undeliverable": False, "sent_for_you": 30}
    ]

    response = await client.post(f"/api/me/identity/aliases/{ALIAS}/reject", headers=alice.auth)
    assert response.status_code == 200, response.text
    body = (await client.get("/api/me/identity", headers=alice.auth)).json()
    assert [a["address"] for a in body["aliases"]] == [alice.account.email]
    rejected = next(d for d in body["delegates"] if d["address"] == ALIAS)
    assert rejected["decided_by"] == "user" and rejected["reason"] == "rejected by the user"
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM queue.job WHERE name = 'analyze-relationships'"
        )
        queued = await cur.fetchone()
    assert queued is not None and queued[0] >= 1  # the user is rescored

    response = await client.post(f"/api/me/identity/aliases/{AIDE}/confirm", headers=alice.auth)
    assert response.status_code == 200, response.text
    body = (await client.get("/api/me/identity", headers=alice.auth)).json()
    assert AIDE in [a["address"] for a in body["aliases"]]


async def test_identity__the_account_address_stays_and_unlisted_addresses_are_not_found(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_identity(pool, alice)
    url = f"/api/me/identity/aliases/{alice.account.email}/reject"
    response = await client.post(url, headers=alice.auth)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    for unknown in ("not-an-address", "stranger@example.org"):
        url = f"/api/me/identity/aliases/{unknown}/confirm"
        assert (await client.post(url, headers=alice.auth)).status_code == 404


async def test_you_page__forms_carry_csrf_and_reject_redirects_with_a_notice(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool
) -> None:
    await seed_identity(pool, alice)
    await login(client, alice.account.email)
    page = await client.get("/you")
    assert page.status_code == 200 and "Ina Aide" in page.text and "40 of 120" in page.text
    csrf = session_csrf(page.text)
    forbidden = await client.post(f"/you/aliases/{ALIAS}/reject", data={})
    assert forbidden.status_code == 403
    done = await client.post(f"/you/aliases/{ALIAS}/reject", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/you?done=rejected"
    after = await client.get("/you?done=rejected")
    assert "its mail counts as theirs" in after.text
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT id FROM crm.contacts WHERE primary_address = %s", (AIDE,))
        row = await cur.fetchone()
    assert row is not None
    contact = await client.get(f"/contacts/{row[0]}")
    assert "delegate, sent 30 for you" in contact.text
