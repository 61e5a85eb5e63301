"""CSV and vCard import and export through the API: a preview with the bad rows and their
reasons, a confirmed run applied by the import-records job (all or nothing when it crashes),
re-imports that update rather than duplicate, streamed exports of a list or filter that the
import reads back, companies too, and clear 4xx for files that cannot be read."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import vobject
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import addresses
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.imports import repo as imports_repo
from fluffymail.jobs import import_records
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.web.services import imports as imports_service
from tests.integration.web.conftest import User, login, session_csrf

CONTACTS = (
    "First Name,Last Name,E-mail Address,Company,Job Title,Mobile Phone,Categories,Notes\n"
    "Ada,Lovelace,Ada@Engines.org,Analytical Engines,Countess,+44 20 7946 0958,"
    'Investors;VIP,"Met at a ball"\n'
    "Bad,Address,not-an-address,,,,,\n"
    "Grace,Hopper,grace@navy.mil,,Rear Admiral,+1 650 253 0000,VIP,\n"
    "Phone,Less,local@navy.mil,,,555-1234,,\n"
    "Grace,Again,GRACE@navy.mil,,,,,\n"
)


async def upload(
    client: httpx.AsyncClient, user: User, body: bytes | str, name: str = "people.csv", **query: Any
) -> httpx.Response:
    kind = query.pop("kind", "contacts")
    data = body.encode() if isinstance(body, str) else body
    return await client.post(
        f"/api/imports/{kind}",
        params=query,
        files={"file": (name, data, "text/csv")},
        headers=user.auth,
    )


async def run_job(pool: AsyncConnectionPool, jobs: JobQueue, user: User, run_id: int) -> Any:
    """What the worker does with the queued job: apply the run."""
    if "analyze-relationships" not in await jobs.get_queues():
        await jobs.create_queue("analyze-relationships")
    deps = JobDeps(settings=Settings(), pool=pool, queue=jobs, log=logging.getLogger("test"))
    args = import_records.Args(run_id=run_id, user_id=user.account.id)
    return await import_records.run_import(deps, SystemClock(), args)


async def imported(
    client: httpx.AsyncClient, pool: AsyncConnectionPool, jobs: JobQueue, user: User, body: str
) -> dict[str, Any]:
    made = await upload(client, user, body)
    assert made.status_code == 201, made.text
    run_id = made.json()["id"]
    confirmed = await client.post(f"/api/imports/{run_id}/confirm", headers=user.auth)
    assert confirmed.status_code == 202, confirmed.text
    await run_job(pool, jobs, user, run_id)
    return (await client.get(f"/api/imports/{run_id}", headers=user.auth)).json()


async def _contact(pool: AsyncConnectionPool, address: str) -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT c.id, c.name, c.name_source, c.company_source, co.name, co.domain,"
                " (SELECT array_agg(f.field || '=' || f.value || ':' || f.source ORDER BY 1)"
                "  FROM crm.contact_facts f WHERE f.contact_id = c.id AND f.is_current),"
                " (SELECT array_agg(t.name ORDER BY t.name) FROM crm.contact_tags ct"
                "  JOIN crm.tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id),"
                " (SELECT array_agg(n.body ORDER BY n.id) FROM crm.notes n"
                "  WHERE n.contact_id = c.id)"
                " FROM crm.contact_addresses a JOIN crm.contacts c ON c.id = a.contact_id"
                " LEFT JOIN crm.companies co ON co.id = c.company_id WHERE a.address = %s",
                (address,),
            )
        ).fetchone()
    assert row is not None, address
    keys = ("id", "name", "name_source", "company_source", "company", "domain", "facts")
    return dict(zip((*keys, "tags", "notes"), row, strict=True))


async def test_preview_lists_bad_rows_then_the_job_imports_the_good_ones(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    made = await upload(client, alice, CONTACTS)
    assert made.status_code == 201, made.text
    preview = made.json()
    assert preview["state"] == "previewed" and preview["format"] == "csv"
    assert (preview["total_rows"], preview["good_rows"], preview["bad_rows"]) == (5, 2, 3)
    assert [p["row"] for p in preview["problems"]] == [3, 5, 6]
    reasons = " | ".join(p["reason"] for p in preview["problems"])
    assert "not an email address" in reasons and "no country code" in reasons
    assert "grace@navy.mil is already on row 4" in reasons
    fields = {c["column"]: c["field"] for c in preview["columns"]}
    assert fields["E-mail Address"] == "email" and fields["Job Title"] == "title"
    assert [r["address"] for r in preview["sample"]] == ["ada@engines.org", "grace@navy.mil"]
    assert (preview["new"], preview["existing"]) == (2, 0)
    async with pool.connection() as conn:  # nothing imported before the confirmation
        count = await (await conn.execute("SELECT count(*) FROM crm.contacts")).fetchone()
    assert count == (0,)

    confirmed = await client.post(f"/api/imports/{preview['id']}/confirm", headers=alice.auth)
    assert confirmed.status_code == 202 and confirmed.json()["state"] == "queued"
    again = await client.post(f"/api/imports/{preview['id']}/confirm", headers=alice.auth)
    assert again.status_code == 409
    assert await jobs.find_jobs(name=import_records.QUEUE)
    output = await run_job(pool, jobs, alice, preview["id"])
    assert output["created"] == 2
    report = (await client.get(f"/api/imports/{preview['id']}", headers=alice.auth)).json()
    assert report["state"] == "done" and (report["created"], report["updated"]) == (2, 0)
    assert len(report["problems"]) == 3
    rows = (await client.get(f"/api/imports/{preview['id']}/rows", headers=alice.auth)).json()
    assert [r["outcome"] for r in rows] == ["created", "created"]

    ada = await _contact(pool, "ada@engines.org")
    assert (ada["name"], ada["name_source"]) == ("Ada Lovelace", "you")
    assert (ada["company"], ada["domain"], ada["company_source"]) == (
        "Analytical Engines",
        "engines.org",
        "you",
    )
    assert ada["facts"] == ["phone=+44 20 7946 0958:you", "title=Countess:you"]
    assert ada["tags"] == ["Investors", "VIP"] and ada["notes"] == ["Met at a ball"]
    page = await client.get(f"/api/contacts/{ada['id']}", headers=alice.auth)
    assert page.status_code == 200  # shown at once, as a contact added by hand
    again_run = await run_job(pool, jobs, alice, preview["id"])  # a retried job: no-op
    assert again_run["skipped"] == "done"


async def test_reimport_updates_by_address_and_adds_nothing_twice(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    await imported(client, pool, jobs, alice, CONTACTS)
    changed = CONTACTS.replace("Countess", "Mathematician").replace("Ada,Lovelace", ",")
    changed += (
        "Free,Mail,free@gmail.com,Analytical Engines,,,,\nLost,Co,lost@gmail.com,Nowhere,,,,\n"
    )
    report = await imported(client, pool, jobs, alice, changed)
    assert (report["created"], report["updated"]) == (2, 2)
    assert [(w["row"], "“Nowhere” was not set" in w["reason"]) for w in report["warnings"]] == [
        (8, True)
    ]
    free = await _contact(pool, "free@gmail.com")  # a company named without a domain: by name
    assert (free["company"], free["company_source"]) == ("Analytical Engines", "you")
    ada = await _contact(pool, "ada@engines.org")
    assert ada["name"] == "Ada Lovelace"  # an empty cell changes nothing
    assert ada["facts"] == ["phone=+44 20 7946 0958:you", "title=Mathematician:you"]
    assert ada["notes"] == ["Met at a ball"] and ada["tags"] == ["Investors", "VIP"]
    async with pool.connection() as conn:
        count = await (await conn.execute("SELECT count(*) FROM crm.contacts")).fetchone()
        logged = await (
            await conn.execute(
                "SELECT count(*) FROM crm.activity WHERE action = 'contact.imported'"
            )
        ).fetchone()
    assert count == (4,) and logged == (6,)


async def crashing_import(
    pool: AsyncConnectionPool, jobs: JobQueue, monkeypatch: pytest.MonkeyPatch, error: str
) -> tuple[Any, Any]:
    """The import job's handler, with its notes step failing (`error`) after contacts, facts
    and tags were written, and the queued job of the confirmed run."""
    real = imports_repo.SQL

    class Crashing(dict):
        def __getitem__(self, name: str) -> Any:
            if name == "notes_insert":
                raise RuntimeError(error)
            return real[name]

    monkeypatch.setattr(imports_repo, "SQL", Crashing(real))
    handler = import_records.make_handler(
        JobDeps(settings=Settings(), pool=pool, queue=jobs, log=logging.getLogger("t")),
        SystemClock(),
    )
    [job] = await jobs.find_jobs(name=import_records.QUEUE)
    await jobs.create_queue("analyze-relationships")
    return handler, job


async def test_a_crash_leaves_nothing_half_done(
    client: httpx.AsyncClient,
    alice: User,
    pool: AsyncConnectionPool,
    jobs: JobQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = (await upload(client, alice, CONTACTS)).json()
    await client.post(f"/api/imports/{made['id']}/confirm", headers=alice.auth)
    real = imports_repo.SQL
    handler, job = await crashing_import(pool, jobs, monkeypatch, "worker died")
    with pytest.raises(RuntimeError):
        await handler(job)
    async with pool.connection() as conn:
        counts = await (
            await conn.execute(
                "SELECT (SELECT count(*) FROM crm.contacts), (SELECT count(*) FROM crm.tags),"
                " (SELECT count(*) FROM crm.contact_facts)"
            )
        ).fetchone()
    assert counts == (0, 0, 0)
    report = (await client.get(f"/api/imports/{made['id']}", headers=alice.auth)).json()
    assert report["state"] == "queued" and "worker died" in report["last_error"]
    monkeypatch.setattr(imports_repo, "SQL", real)
    await handler(job)  # the retry imports it whole
    report = (await client.get(f"/api/imports/{made['id']}", headers=alice.auth)).json()
    assert report["state"] == "done" and report["created"] == 2 and report["last_error"] is None


async def test_an_import_whose_attempts_all_fail_says_so_and_can_be_tried_again(
    client: httpx.AsyncClient,
    make_client,
    alice: User,
    pool: AsyncConnectionPool,
    jobs: JobQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = (await upload(client, alice, CONTACTS)).json()
    await client.post(f"/api/imports/{made['id']}/confirm", headers=alice.auth)
    real = imports_repo.SQL
    handler, job = await crashing_import(pool, jobs, monkeypatch, "disk full")
    last = dataclasses.replace(job, retry_count=job.retry_limit)  # its retries are spent
    with pytest.raises(RuntimeError):
        await handler(last)
    report = (await client.get(f"/api/imports/{made['id']}", headers=alice.auth)).json()
    assert report["state"] == "failed" and "disk full" in report["last_error"]
    assert report["finished_on"] is not None
    browser = make_client()
    await login(browser, "alice@example.com")
    page = await browser.get(f"/import/{made['id']}", headers={"accept": "text/html"})
    assert "Import failed" in page.text and "disk full" in page.text and "Try again" in page.text
    monkeypatch.setattr(imports_repo, "SQL", real)
    again = await client.post(f"/api/imports/{made['id']}/confirm", headers=alice.auth)
    assert again.status_code == 202 and again.json()["state"] == "queued"
    await run_job(pool, jobs, alice, made["id"])
    report = (await client.get(f"/api/imports/{made['id']}", headers=alice.auth)).json()
    assert report["state"] == "done" and report["created"] == 2 and report["last_error"] is None
    twice = await client.post(f"/api/imports/{made['id']}/confirm", headers=alice.auth)
    assert twice.status_code == 409


async def test_export_streams_a_filter_or_list_and_reads_back(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    await imported(client, pool, jobs, alice, CONTACTS)
    everyone = await client.get("/api/contacts/export", headers=alice.auth)
    assert everyone.status_code == 200 and everyone.headers["content-type"].startswith("text/csv")
    lines = everyone.text.splitlines()
    assert lines[0].startswith("name,email,company,company_domain,title,phone")
    assert len(lines) == 3 and "'+44 20 7946 0958" in everyone.text
    vip = await client.get(
        "/api/contacts/export", params={"filter": "tag:Investors"}, headers=alice.auth
    )
    assert "ada@engines.org" in vip.text and "grace@" not in vip.text
    bad = await client.get("/api/contacts/export", params={"filter": "nope:x"}, headers=alice.auth)
    assert bad.status_code == 400
    made = await client.post(
        "/api/lists", json={"name": "Navy", "filter": "navy"}, headers=alice.auth
    )
    navy = await client.get(
        "/api/contacts/export",
        params={"list": made.json()["id"], "format": "vcf"},
        headers=alice.auth,
    )
    assert navy.headers["content-type"].startswith("text/vcard")
    [card] = list(vobject.readComponents(navy.text))
    assert card.fn.value == "Grace Hopper" and card.email.value == "grace@navy.mil"
    assert card.title.value == "Rear Admiral" and card.categories.value == ["VIP"]
    # The export reads back as an import that updates both contacts and adds nothing.
    back = await imported(client, pool, jobs, alice, everyone.text)
    assert (back["created"], back["updated"], back["bad_rows"]) == (0, 2, 0)
    vcf = await upload(client, alice, navy.text, name="navy.vcf")
    assert vcf.json()["format"] == "vcf" and vcf.json()["existing"] == 1
    ada = await _contact(pool, "ada@engines.org")
    assert ada["notes"] == ["Met at a ball"] and len(ada["facts"]) == 2


DAMAGED = {  # addresses old mail systems damaged, as extraction keeps them (issue 12)
    ".hall@acme.example": "Steve Hall",
    "carol.st.@acme.example": "Carol St. Clair",
    "k..allen@acme.example": "Phillip Allen",
    "ada@acme.example": "Ada Lovelace",
}


async def _from_mail(pool: AsyncConnectionPool, user: User, people: dict[str, str]) -> None:
    """Contacts made as extraction makes them from mail (a damaged address kept as written,
    its defect noted: `ensure_contacts`), then shown with their names."""
    rows = [
        {"address": a, "company_id": None, "is_internal": False,
         "defect": addresses.address_defect(a)}
        for a in people
    ]  # fmt: skip
    async with pool.connection() as conn, conn.transaction():
        ids, _ = await contacts_repo.ensure_contacts(conn, user.account.id, rows, datetime.now(UTC))
        for address, name in people.items():
            await conn.execute(
                "UPDATE crm.contacts SET name = %s, created = true WHERE id = %s",
                (name, ids[address]),
            )


async def _people(pool: AsyncConnectionPool, user: User) -> set[tuple[str, str | None, str]]:
    """The user's shown contacts: (address, its defect, name)."""
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT a.address, a.defect, c.name FROM crm.contact_addresses a"
                " JOIN crm.contacts c ON c.id = a.contact_id"
                " WHERE a.user_id = %s AND c.created AND c.merged_into_id IS NULL",
                (user.account.id,),
            )
        ).fetchall()
    return set(rows)


async def test_export_of_damaged_addresses_reads_back_into_a_fresh_account(
    client: httpx.AsyncClient,
    make_client,
    alice: User,
    bob: User,
    pool: AsyncConnectionPool,
    jobs: JobQueue,
) -> None:
    """QA: a CSV export read back lost every contact whose address an old mail system damaged
    (each row refused as no address). They are imported as mail keeps them, as written and
    marked damaged, and the preview and the report say so row by row."""
    await _from_mail(pool, alice, DAMAGED)
    exported = await client.get("/api/contacts/export", headers=alice.auth)
    assert exported.status_code == 200 and exported.text.count("@acme.example") == 4

    made = await upload(client, bob, exported.text)
    preview = made.json()
    assert (preview["good_rows"], preview["bad_rows"], preview["new"]) == (4, 0, 4)
    noted = {w["row"]: w["reason"] for w in preview["warnings"]}
    rows = {r["address"]: r["row"] for r in preview["sample"]}
    assert sorted(noted) == sorted(rows[a] for a in DAMAGED if a != "ada@acme.example")
    assert "marked damaged" in noted[rows["carol.st.@acme.example"]]
    defects = {r["address"]: r["address_defect"] for r in preview["sample"]}
    assert defects[".hall@acme.example"] == "leading_dot" and defects["ada@acme.example"] is None
    browser = make_client()
    await login(browser, "bob@example.com")
    page = await browser.get(f"/import/{preview['id']}", headers={"accept": "text/html"})
    assert "To be imported with a note" in page.text and page.text.count(">damaged</span>") == 3
    await client.post(f"/api/imports/{preview['id']}/confirm", headers=bob.auth)
    await run_job(pool, jobs, bob, preview["id"])
    report = (await client.get(f"/api/imports/{preview['id']}", headers=bob.auth)).json()
    assert (report["created"], report["updated"], report["bad_rows"]) == (4, 0, 0)
    assert report["warnings"] == preview["warnings"]
    assert await _people(pool, bob) == await _people(pool, alice)  # nothing lost, all marked

    again = await imported(client, pool, jobs, alice, exported.text)  # read back: the same ones
    assert (again["created"], again["updated"], again["bad_rows"]) == (0, 4, 0)
    cards = await client.get("/api/contacts/export?format=vcf", headers=alice.auth)
    vcf = (await upload(client, bob, cards.text, name="people.vcf")).json()
    assert (vcf["good_rows"], vcf["existing"], len(vcf["warnings"])) == (4, 4, 3)


async def test_companies_import_and_export(
    client: httpx.AsyncClient, alice: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    body = (
        "Company Name,Website,Tags,Notes\n"
        "Acme Rockets,https://www.acme.example/about,Partner,Ships fast\n"
        "No Domain,,,\n"
    )
    made = await upload(client, alice, body, kind="companies")
    preview = made.json()
    assert made.status_code == 201 and preview["good_rows"] == 1
    assert "no domain" in preview["problems"][0]["reason"]
    await client.post(f"/api/imports/{preview['id']}/confirm", headers=alice.auth)
    await run_job(pool, jobs, alice, preview["id"])
    out = await client.get("/api/companies/export", headers=alice.auth)
    assert (
        out.text.splitlines()[1]
        == "Acme Rockets,acme.example,https://www.acme.example/about,0,Partner,Ships fast"
    )
    vcards = await upload(client, alice, "BEGIN:VCARD\r\nEND:VCARD\r\n", kind="companies")
    assert vcards.status_code == 415


UNREADABLE = [
    ("Name,Address\nAda,ada@x.example\n".encode("utf-16-le"), 415, "not_text"),
    ("E-mail\nzoë@x.example\n".encode("latin-1"), 400, "wrong_encoding"),
    (b"Name,Phone\nAda,1\n", 400, "no_email_column"),
    (b"\n\n", 400, "empty_file"),
]


async def test_unreadable_files_answer_a_clear_4xx(client: httpx.AsyncClient, alice: User) -> None:
    for body, status, code in UNREADABLE:
        response = await upload(client, alice, body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code


async def test_the_import_pages_preview_confirm_and_report(
    client: httpx.AsyncClient,
    make_client,
    alice: User,
    pool: AsyncConnectionPool,
    jobs: JobQueue,
) -> None:
    browser = make_client()
    await login(browser, "alice@example.com")
    page = await browser.get("/contacts", headers={"accept": "text/html"})
    assert 'href="/import"' in page.text
    headers = {"accept": "text/html", "X-CSRF-Token": session_csrf(page.text), "HX-Request": "1"}
    form = await browser.get("/import", headers=headers)
    assert "Upload and preview" in form.text
    refused = await browser.post(
        "/import", files={"file": ("x.csv", b"Name\nAda\n")}, data={"kind": "contacts"},
        headers=headers,
    )  # fmt: skip
    assert refused.status_code == 200 and "no column holds email addresses" in refused.text
    sent = await browser.post(
        "/import", files={"file": ("people.csv", CONTACTS.encode())}, data={"kind": "contacts"},
        headers=headers,
    )  # fmt: skip
    assert sent.status_code == 204
    where = sent.headers["HX-Redirect"]
    preview = await browser.get(where, headers={"accept": "text/html"})
    assert "Import 2 contacts" in preview.text and "Rows left out" in preview.text
    assert "is not an email address" in preview.text and "Job title" in preview.text
    confirm = await browser.post(f"{where}/confirm", headers=headers)
    assert confirm.status_code == 303
    assert "Importing" in (await browser.get(where, headers={"accept": "text/html"})).text
    await run_job(pool, jobs, alice, int(where.rsplit("/", 1)[1]))
    report = await browser.get(where, headers={"accept": "text/html"})
    assert "2 contacts added, 0 updated" in report.text and "Rows left out" in report.text
    made = await client.post(
        "/api/lists", json={"name": "VIP", "filter": "tag:VIP"}, headers=alice.auth
    )
    listed = await browser.get(f"/lists/{made.json()['id']}/export")  # the list page's export
    assert listed.headers["content-type"].startswith("text/csv")
    assert listed.text.count("@") == 2 and "ada@engines.org" in listed.text


async def test_encoding_region_and_size_limit(
    client: httpx.AsyncClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    latin = "Email,Name,Phone\nzoe@x.example,Zoë,020 7946 0958\n".encode("latin-1")
    read = await upload(client, alice, latin, encoding="latin-1", region="GB")
    assert read.status_code == 201, read.text
    assert read.json()["sample"][0]["name"] == "Zoë"
    assert read.json()["sample"][0]["phones"] == ["+44 20 7946 0958"]
    unknown = await upload(client, alice, latin, encoding="latin-1", region="ZZ")
    assert unknown.status_code == 400
    monkeypatch.setattr(imports_service, "MAX_BYTES", 100)
    big = await upload(client, alice, "Email\n" + "a@x.example\n" * 50)
    assert big.status_code == 413


async def test_an_import_matches_only_the_importers_own_contacts(
    client: httpx.AsyncClient, alice: User, bob: User, pool: AsyncConnectionPool, jobs: JobQueue
) -> None:
    await imported(client, pool, jobs, alice, "Email,Name\nshared@acme.org,Alice's Ann\n")
    report = await imported(client, pool, jobs, bob, "Email,Name\nshared@acme.org,Bob's Ann\n")
    assert (report["created"], report["updated"]) == (1, 0)
    async with pool.connection() as conn:
        names = await (
            await conn.execute(
                "SELECT u.email, c.name FROM crm.contacts c JOIN crm.users u ON u.id = c.user_id"
                " WHERE c.primary_address = 'shared@acme.org' ORDER BY 1"
            )
        ).fetchall()
    assert names == [("alice@example.com", "Alice's Ann"), ("bob@example.com", "Bob's Ann")]
    assert (await client.get("/api/imports", headers=bob.auth)).json()[0]["id"] == report["id"]
