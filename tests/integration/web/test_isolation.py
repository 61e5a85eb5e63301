"""A second user can neither read nor change the first user's contacts, companies, messages,
merges, connections, jobs, notes, tags, activity, lists, corrections, company merges, follow-ups,
cadences, team members and invites, webhooks and their deliveries through any route:
every route with a path parameter, API (from the OpenAPI schema) and pages alike, is called
by Bob with Alice's ids."""

from __future__ import annotations

import importlib
import pkgutil
import re

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from fluffymail.web import ui
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.identity_seed import AIDE, ALIAS, seed_identity

ADMIN_ONLY = re.compile(r"^/(api/)?(jobs|queues|schedules|workers)\b")


def _page_routes() -> list[APIRoute]:
    """Every page route: those of each `fluffymail.web.ui` module's router."""
    routes = []
    for info in pkgutil.iter_modules(ui.__path__):
        module = importlib.import_module(f"{ui.__name__}.{info.name}")
        router = getattr(module, "router", None)
        routes += [r for r in getattr(router, "routes", []) if isinstance(r, APIRoute)]
    return routes


async def _alices_world(
    client: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    make_connection,
    jobs: JobQueue,
) -> dict[str, list[object]]:
    seeded = await seed_crm(pool, alice.account.id)
    merged = await client.post(
        f"/api/contacts/{seeded.contacts['ada']}/merge",
        json={"other_contact_id": seeded.contacts["linus"]},
        headers=alice.auth,
    )
    assert merged.status_code == 200
    connection = await make_connection(alice)
    synced = await client.post(f"/api/connections/{connection}/sync", headers=alice.auth)
    tokens = (await client.get("/api/me/tokens", headers=alice.auth)).json()
    await seed_identity(pool, alice)
    notes_tags = await _alices_notes_and_tags(client, alice, seeded.contacts, seeded.companies)
    async with pool.connection() as conn:  # a distribution list of Alice's (issue 12)
        await conn.execute(
            "UPDATE crm.contacts SET kind = 'group', kind_reason = 'dl_address' WHERE id = %s",
            (seeded.contacts["colleague"],),
        )
    lists = await _alices_lists_and_corrections(client, alice, seeded.contacts, seeded.companies)
    followups = await _alices_followups(client, alice, seeded.contacts)
    team = await _alices_team(client, alice)
    webhooks = await _alices_webhook(client, alice)
    return {
        **team,
        **notes_tags,
        **lists,
        **followups,
        **webhooks,
        "contact_id": list(seeded.contacts.values()),
        "company_id": list(seeded.companies.values()),
        "message_id": list(seeded.messages.values()),
        "merge_id": [merged.json()["merge_id"]],
        "connection_id": [connection],
        "job_id": [synced.json()["job_id"]],
        "name": ["sync-emails"],
        "action": ["pause", "resume"],
        "token_id": [token["id"] for token in tokens],
        "address": [ALIAS, AIDE],
        "group_id": [seeded.contacts["colleague"]],
    }


async def _alices_notes_and_tags(
    client: httpx.AsyncClient, alice: User, contacts: dict[str, int], companies: dict[str, int]
) -> dict[str, list[object]]:
    """A tag on Alice's contacts and company, and notes on both (one mentioning Grace)."""
    tag = await client.post("/api/tags", json={"name": "Alice only"}, headers=alice.auth)
    assert tag.status_code == 201
    tag_id = tag.json()["id"]
    people = [contacts[name] for name in ("ada", "grace", "colleague")]  # Linus is merged away
    bulk = {"action": "tag", "tag_id": tag_id, "contact_ids": people}
    assert (await client.post("/api/contacts/bulk", json=bulk, headers=alice.auth)).is_success
    company = companies["acme"]
    put = await client.put(f"/api/companies/{company}/tags/{tag_id}", headers=alice.auth)
    assert put.is_success
    note_ids = []
    for url in (f"/api/contacts/{contacts['ada']}/notes", f"/api/companies/{company}/notes"):
        note = await client.post(url, json={"body": "Secret @Grace plan"}, headers=alice.auth)
        assert note.status_code == 201
        note_ids.append(note.json()["id"])
    return {"tag_id": [tag_id], "note_id": note_ids}


async def _alices_lists_and_corrections(
    client: httpx.AsyncClient, alice: User, contacts: dict[str, int], companies: dict[str, int]
) -> dict[str, list[object]]:
    """A private view, a shared view and a static list of Alice's, an edited contact and
    company, a contact made by hand, and a company merge (undone)."""
    ids = []
    for body in (
        {"name": "Alice only view", "filter": "cold:yes"},
        {"name": "Alice shared", "filter": "level:strong", "shared": True},
        {"name": "Alice board", "kind": "static"},
    ):
        made = await client.post("/api/lists", json=body, headers=alice.auth)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    ada = contacts["ada"]
    added = await client.post(
        f"/api/lists/{ids[2]}/contacts", json={"contact_ids": [ada]}, headers=alice.auth
    )
    assert added.is_success
    edit = {"title": "Alice only title", "phone": "+1 555 0100"}
    assert (await client.patch(f"/api/contacts/{ada}", json=edit, headers=alice.auth)).is_success
    company = {"website": "https://alice.test"}
    patched = await client.patch(
        f"/api/companies/{companies['acme']}", json=company, headers=alice.auth
    )
    assert patched.is_success
    made = await client.post(
        "/api/contacts", json={"address": "new@alice.test"}, headers=alice.auth
    )
    assert made.status_code == 201
    merged = await client.post(
        f"/api/companies/{companies['acme']}/merge",
        json={"other_company_id": companies["globex"]},
        headers=alice.auth,
    )
    assert merged.is_success
    merge_id = merged.json()["merge_id"]
    assert (
        await client.post(f"/api/companies/merges/{merge_id}/undo", headers=alice.auth)
    ).is_success
    return {"list_id": ids, "company_merge_id": [merge_id]}


async def _alices_followups(
    client: httpx.AsyncClient, alice: User, contacts: dict[str, int]
) -> dict[str, list[object]]:
    """A cadence on Ada (so a follow-up is due) and the follow-ups recomputed."""
    ada = contacts["ada"]
    put = await client.put(f"/api/contacts/{ada}/cadence", json={"days": 7}, headers=alice.auth)
    assert put.is_success
    assert (await client.post("/api/followups/recompute", headers=alice.auth)).is_success
    board = (await client.get("/api/followups", headers=alice.auth)).json()
    ids = [f["id"] for f in board["due"] + board["upcoming"]]
    assert ids
    return {"followup_id": ids}


async def _alices_webhook(client: httpx.AsyncClient, alice: User) -> dict[str, list[object]]:
    """A webhook of Alice's workspace (a public address: nothing is sent, no worker runs) and
    a test delivery in its log."""
    body = {"url": "https://93.184.216.34/alice", "events": ["contact.created"]}
    made = await client.post("/api/webhooks", json=body, headers=alice.auth)
    assert made.status_code == 201, made.text
    webhook_id = made.json()["id"]
    sent = await client.post(f"/api/webhooks/{webhook_id}/test", headers=alice.auth)
    assert sent.status_code == 202, sent.text
    return {"webhook_id": [webhook_id], "delivery_id": [sent.json()["id"]]}


async def _alices_team(client: httpx.AsyncClient, alice: User) -> dict[str, list[object]]:
    """A pending invite of Alice's; she is the member to probe. An invite's token is the
    capability itself (whoever holds the link may join), so pages are probed with a token
    that is no invite's."""
    invite = await client.post("/api/team/invites", json={}, headers=alice.auth)
    assert invite.status_code == 201
    token = invite.json()["token"]
    return {
        "invite_id": [invite.json()["id"]],
        "member_id": [alice.account.id],
        "token": [token[::-1] + "x"],
    }


def _api_body(method: str, path: str, bobs_ada: int) -> dict[str, object] | None:
    """A valid body for each route that takes one, so Bob is refused for the ids alone."""
    if path.startswith("/api/companies/") and "/merge" in path:
        return {"other_company_id": 1}
    if path.endswith(("/merge", "/merge/preview")):
        return {"other_contact_id": bobs_ada}
    if path.startswith("/api/lists/") and "/contacts" in path and method == "post":
        return {"contact_ids": [bobs_ada]}
    if path.startswith("/api/lists/") and method == "patch":
        return {"name": "Bob's now"}
    if path.endswith("/visibility"):
        return {"state": "hidden"}
    if path.startswith("/api/contacts/") and method == "patch":
        return {"name": "Bob was here"}
    if path.startswith("/api/companies/") and method == "patch":
        return {"name": "Bob's company"}
    if "/notes" in path and method in ("post", "patch"):
        return {"body": "Bob was here"}
    if path.endswith("/snooze"):
        return {"until_reply": True}
    if path.endswith("/cadence"):
        return {"days": 3}
    if path.startswith("/api/tags/") and method == "patch":
        return {"name": "Bob's now", "colour": "red"}
    if path.endswith("/people") and method == "post":
        return {"contact_ids": [bobs_ada]}
    if path.startswith("/api/team/members/") and method == "patch":
        return {"role": "member"}
    if path.startswith("/api/webhooks/") and method == "patch":
        return {"description": "Bob was here", "enabled": False}
    if method == "patch":  # PATCH /api/connections/{id}
        return {"visibility": "metadata", "contact_policy": "none"}
    return None


async def _snapshot(pool: AsyncConnectionPool, jobs: JobQueue) -> tuple[object, ...]:
    async with pool.connection() as conn:
        contacts = await (
            await conn.execute(
                "SELECT id, name, merged_into_id, company_id, created, kept_on, suppressed_reason,"
                " name_source, company_source FROM crm.contacts ORDER BY id"
            )
        ).fetchall()
        merges = await (
            await conn.execute("SELECT id, unmerged_on FROM crm.contact_merges ORDER BY id")
        ).fetchall()
        addresses = await (
            await conn.execute(
                "SELECT address, contact_id FROM crm.contact_addresses ORDER BY address"
            )
        ).fetchall()
        tokens = await (await conn.execute("SELECT id FROM crm.api_tokens ORDER BY id")).fetchall()
        tokens += await (
            await conn.execute(
                "SELECT id, contact_policy, visibility, paused_on FROM crm.connections ORDER BY id"
            )
        ).fetchall()
        notes_tags = [
            await (await conn.execute(query)).fetchall()
            for query in (
                "SELECT id, body, updated_on, contact_id, company_id FROM crm.notes ORDER BY id",
                "SELECT note_id, contact_id FROM crm.note_mentions ORDER BY 1, 2",
                "SELECT id, workspace_id, name, colour FROM crm.tags ORDER BY id",
                "SELECT contact_id, tag_id FROM crm.contact_tags ORDER BY 1, 2",
                "SELECT company_id, tag_id FROM crm.company_tags ORDER BY 1, 2",
                "SELECT id, workspace_id, subject_kind, subject_id, action FROM crm.activity"
                " ORDER BY id",
                "SELECT id, owner_id, name, filter, sort, columns, shared FROM crm.contact_lists"
                " ORDER BY id",
                "SELECT list_id, contact_id FROM crm.contact_list_members ORDER BY 1, 2",
                "SELECT id, name, website, merged_into_id FROM crm.companies ORDER BY id",
                "SELECT id, contact_ids, unmerged_on FROM crm.company_merges ORDER BY id",
                "SELECT contact_id, field, value, source, is_current FROM crm.contact_facts"
                " ORDER BY 1, 2, 3",
                "SELECT id, state, remind_on, until_reply, closed_on FROM crm.followups ORDER BY id",
                "SELECT contact_id, days FROM crm.contact_cadences ORDER BY 1",
                "SELECT user_id, digest FROM crm.followup_settings ORDER BY 1",
                "SELECT id, kind FROM crm.outgoing_events ORDER BY id",
                "SELECT workspace_id, user_id, role FROM crm.workspace_members ORDER BY 1, 2",
                "SELECT id, used_on FROM crm.workspace_invites ORDER BY id",
                "SELECT id, name FROM crm.workspaces ORDER BY id",
                "SELECT id, url, events, enabled, secret, description FROM crm.webhooks ORDER BY id",
                "SELECT id, state, attempts FROM crm.webhook_deliveries ORDER BY id",
            )
        ]
    found = [(j.id, j.state) for j in await jobs.find_jobs(limit=1000)]
    return contacts, merges, addresses, tokens, found, len(await jobs.get_schedules()), notes_tags


def _fill(path: str, ids: dict[str, list[object]]) -> list[str]:
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in ids]
    assert not unknown, f"{path}: add Alice's {unknown} to the isolation test"
    paths = [path]
    for name in names:
        paths = [p.replace(f"{{{name}}}", str(value)) for p in paths for value in ids[name]]
    return paths


async def test_bob_cannot_reach_alices_data_through_any_api_route(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: User,
    bob: User,
    pool: AsyncConnectionPool,
    make_connection,
    jobs: JobQueue,
) -> None:
    ids = await _alices_world(client, alice, pool, make_connection, jobs)
    bobs = await seed_crm(pool, bob.account.id, domain="bob.test")
    bobs_tag = (await client.post("/api/tags", json={"name": "Bob's"}, headers=bob.auth)).json()
    bobs_list = (
        await client.post("/api/lists", json={"name": "Bob's", "kind": "static"}, headers=bob.auth)
    ).json()
    before = await _snapshot(pool, jobs)
    schema = (await client.get("/openapi.json")).json()
    probed = 0
    for template, operations in schema["paths"].items():
        if "{" not in template:
            continue
        for method in operations:
            for path in _fill(template, ids):
                body = _api_body(method, path, bobs.contacts["ada"])
                response = await client.request(method.upper(), path, json=body, headers=bob.auth)
                expected = 403 if ADMIN_ONLY.match(template) else 404
                assert response.status_code == expected, (method, path, response.text)
                assert set(response.json()) == {"error"}, path
                probed += 1
    assert probed > 30
    # Bob merging Alice's contact into his own is refused the same way.
    steal = await client.post(
        f"/api/contacts/{bobs.contacts['ada']}/merge",
        json={"other_contact_id": ids["contact_id"][0]},
        headers=bob.auth,
    )
    assert steal.status_code == 404
    # Nor tag across the line: Alice's tag on Bob's contact, Bob's tag on Alice's contacts.
    alices_tag, alices_ada = ids["tag_id"][0], ids["contact_id"][0]
    assert await _snapshot(pool, jobs) == before  # the probes changed nothing
    bobs_connection = await make_connection(bob, source="/mail/bob.mbox")
    before = await _snapshot(pool, jobs)
    crossings = [
        ("POST", f"/api/connections/{bobs_connection}/people", {"contact_ids": [alices_ada]}),
        ("PUT", f"/api/contacts/{bobs.contacts['ada']}/tags/{alices_tag}", None),
        ("PUT", f"/api/companies/{bobs.companies['acme']}/tags/{alices_tag}", None),
        (
            "POST",
            "/api/contacts/bulk",
            {"action": "tag", "tag_id": alices_tag, "contact_ids": [bobs.contacts["ada"]]},
        ),
        (
            "POST",
            "/api/contacts/bulk",
            {"action": "tag", "tag_id": bobs_tag["id"], "contact_ids": [alices_ada]},
        ),
        (
            "POST",
            "/api/contacts/bulk",
            {"action": "untag", "tag_id": alices_tag, "contact_ids": [alices_ada]},
        ),
        ("POST", f"/api/lists/{bobs_list['id']}/contacts", {"contact_ids": [alices_ada]}),
        ("POST", "/api/contacts/visibility", {"contact_ids": [alices_ada], "state": "hidden"}),
        ("POST", "/api/contacts/export", {"contact_ids": [alices_ada]}),
        (
            "PATCH",
            f"/api/contacts/{bobs.contacts['ada']}",
            {"company_id": ids["company_id"][0]},
        ),
        (
            "POST",
            f"/api/companies/{bobs.companies['acme']}/merge",
            {"other_company_id": ids["company_id"][0]},
        ),
        (
            "POST",
            f"/api/companies/{bobs.companies['acme']}/merge/preview",
            {"other_company_id": ids["company_id"][0]},
        ),
        (
            "POST",
            f"/api/contacts/{bobs.contacts['ada']}/merge/preview",
            {"other_contact_id": alices_ada},
        ),
        ("POST", "/api/contacts/cadence", {"days": 3, "contact_ids": [alices_ada]}),
        ("POST", "/api/contacts/cadence", {"days": None, "contact_ids": [alices_ada]}),
    ]
    for method, path, body in crossings:
        response = await client.request(method, path, json=body, headers=bob.auth)
        assert response.status_code == 404, (method, path, response.text)
    assert await _snapshot(pool, jobs) == before
    assert (await client.get("/api/groups", headers=bob.auth)).json() == []
    async with pool.connection() as conn:  # Alice's mail names a group: Bob never sees it
        await conn.execute(
            "UPDATE crm.messages SET extra_headers = jsonb_build_object('address_groups',"
            ' \'[{"header": "to", "name": "Alice team", "members": ["a@x.org"]}]\''
            "::jsonb) WHERE user_id = %s",
            (alice.account.id,),
        )
    assert (await client.get("/api/groups/named", headers=bob.auth)).json() == []
    assert [t["name"] for t in (await client.get("/api/tags", headers=bob.auth)).json()] == [
        "Bob's"
    ]
    tagged = await client.get(f"/api/contacts?tag={alices_tag}", headers=bob.auth)
    assert tagged.json()["items"] == [] and tagged.json()["total"] == 0
    # Bob's lists hold only his own people and companies.
    listed = (await client.get("/api/contacts?limit=200", headers=bob.auth)).json()["items"]
    assert {c["primary_address"].split("@")[1] for c in listed} <= {
        "bob.test",
        "globex.example",
        "mine.test",
    }
    assert all(c["id"] in bobs.contacts.values() for c in listed)
    assert [x["name"] for x in (await client.get("/api/lists", headers=bob.auth)).json()] == [
        "Bob's"
    ]
    companies = (await client.get("/api/companies", headers=bob.auth)).json()["items"]
    assert {c["id"] for c in companies} == set(bobs.companies.values())
    bobs_connections = (await client.get("/api/connections", headers=bob.auth)).json()
    assert [c["id"] for c in bobs_connections] == [bobs_connection]
    board = (await client.get("/api/followups", headers=bob.auth)).json()
    assert board["due"] == board["upcoming"] == board["waiting"] == []


async def test_bob_cannot_reach_alices_data_through_any_page(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_client,
    alice: User,
    bob: User,
    pool: AsyncConnectionPool,
    make_connection,
    jobs: JobQueue,
) -> None:
    ids = await _alices_world(client, alice, pool, make_connection, jobs)
    before = await _snapshot(pool, jobs)
    browser = make_client()
    await login(browser, "bob@example.com")
    csrf = session_csrf((await browser.get("/contacts", headers={"accept": "text/html"})).text)
    headers = {"accept": "text/html", "X-CSRF-Token": csrf}
    pages = [r for r in _page_routes() if "{" in r.path]
    assert len(pages) >= 8
    for route in pages:
        for method in route.methods:
            for path in _fill(route.path, ids):
                data = (
                    {"other_contact_id": "1", "csrf_token": csrf}
                    if path.endswith("/merge")
                    else {"visibility": "metadata"}
                    if path.endswith("/visibility")
                    else {"policy": "none", "contact_id": "1"}
                    if path.endswith(("/policy", "/people"))
                    else {
                        "body": "Bob was here",
                        "tag_id": str(ids["tag_id"][0]),
                        "name": "x",
                        "role": "member",
                    }
                    if method == "POST"
                    else None
                )
                response = await browser.request(method, path, headers=headers, data=data)
                expected = 403 if ADMIN_ONLY.match(route.path) else 404
                assert response.status_code == expected, (method, path, response.status_code)
                assert (
                    "Ada Lovelace" not in response.text and "Analytical engine" not in response.text
                )
                assert "Secret" not in response.text and "Alice only" not in response.text
    # Nor set the cadence of Alice's contacts from the list's bulk form.
    for days in ("3", ""):
        data = {"contact_ids": [str(ids["contact_id"][0])], "days": days, "csrf_token": csrf}
        response = await browser.post("/contacts/cadence", headers=headers, data=data)
        assert response.status_code == 404
    assert await _snapshot(pool, jobs) == before
