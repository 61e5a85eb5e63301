"""enrich-contact: facts with provenance, newest signature wins, pluggable providers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import enrichment
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.jobs import enrich_contact
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.helpers import settled, wait_for, write_maildir
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

OWNER = "olive@owner-co.com"
SIG_OLD = """Thanks for the numbers.

Regards,
Sam Reed
Senior Analyst
Globex Trading Corp.
Office: (713) 853-1234
www.globex.com"""
SIG_NEW = """Let's talk Monday.

Regards,
Sam Reed
Director, Gas Origination
Globex Trading Corp.
Office: (713) 853-9876
Mobile: (713) 555-0142
https://www.linkedin.com/in/samreed"""


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeApi:
    """A paid-API stand-in: providers only implement `EnrichmentProvider`."""

    name: str = "fake-api"

    async def enrich(self, request: enrichment.EnrichmentRequest) -> Sequence[contacts_repo.Fact]:
        return [
            contacts_repo.Fact(
                field="seniority",
                value="director",
                source=self.name,
                confidence=0.5,
                observed_on=request.now,
            )
        ]


async def test_enrich__newest_signature_wins_and_every_fact_has_a_source(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    sam = "Sam Reed <sam.reed@globex.com>"
    root = write_maildir(
        tmp_path / "mail",
        {
            "inbox": [
                mail(1, sender=sam, to=OWNER, body=SIG_OLD),
                mail(30, sender=sam, to=OWNER, body=SIG_NEW),
            ],
            "Sent": [mail(2, sender=OWNER, to=sam)],
        },
    )
    await import_mail(root, OWNER)
    await extract()
    contact = await rows.contact("sam.reed@globex.com")
    assert contact is not None and contact["created"]
    providers = [*enrichment.default_providers(), FakeApi()]
    async with pool.connection() as conn, conn.transaction():
        output = await contacts_service.enrich_contact(
            conn, contact["id"], providers=providers, now=SystemClock().now()
        )
    assert output["status"] == "ok" and output["messages"] == 2
    async with pool.connection() as conn:
        facts = await contacts_repo.list_facts(conn, contact["id"])
    current = {(f.field, f.kind): f.value for f in facts if f.is_current}
    newest = await rows.one("SELECT id FROM crm.messages WHERE subject = 'note 30'")
    assert current[("phone", "office")] == "+17138539876"
    assert current[("phone", "mobile")] == "+17135550142"
    assert current[("title", "")] == "Director, Gas Origination"
    assert current[("linkedin", "")] == "https://www.linkedin.com/in/samreed"
    assert current[("seniority", "")] == "director"
    assert current[("gravatar", "")].startswith("https://gravatar.com/avatar/")
    old = [f for f in facts if f.value == "+17138531234"]
    assert len(old) == 1 and not old[0].is_current  # kept, superseded by the newer signature
    for fact in facts:
        assert fact.source in {"signature", "gravatar", "fake-api"}
        assert (fact.source == "signature") == (fact.source_message_id is not None)
    assert {f.source_message_id for f in facts if f.field == "title" and f.is_current} == {newest}
    # the company: named by the signature (it agrees with the domain), website from it too
    [(name, source, website)] = await rows.all(
        "SELECT name, name_source, website FROM crm.companies WHERE domain = 'globex.com'"
    )
    assert (name, source, website) == (
        "Globex Trading Corp.",
        "signature",
        "https://www.globex.com",
    )

    async with pool.connection() as conn, conn.transaction():  # enriching again changes nothing
        await contacts_service.enrich_contact(
            conn, contact["id"], providers=providers, now=SystemClock().now()
        )
    async with pool.connection() as conn:
        again = await contacts_repo.list_facts(conn, contact["id"])
    assert [(f.field, f.value, f.is_current) for f in again] == [
        (f.field, f.value, f.is_current) for f in facts
    ]


async def test_enrich_job__runs_from_the_queue(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    queue: JobQueue,
    registry: Registry,
    tmp_path: Path,
) -> None:
    root = write_maildir(
        tmp_path / "mail",
        {
            "inbox": [mail(1, sender="Sam <sam.reed@globex.com>", to=OWNER, body=SIG_NEW)],
            "Sent": [mail(2, sender=OWNER, to="sam.reed@globex.com")],
        },
    )
    await import_mail(root, OWNER)
    await extract()
    contact_id = (await rows.contact("sam.reed@globex.com") or {})["id"]
    await queue.send(enrich_contact.QUEUE, {"contact_id": contact_id})
    entry = registry[enrich_contact.QUEUE]
    await queue.work(entry.name, entry.handler, concurrency=3)
    await wait_for(lambda: settled(queue, enrich_contact.QUEUE), 30)
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contact_facts WHERE contact_id = %s AND field = 'phone'",
            contact_id,
        )
        == 2
    )


async def test_enrich__a_contact_leaves_the_consumer_isp_company_mail_gave_it(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    """QA: people writing from a home internet provider's address were shown working at "Rr"
    or "Comcast". Such an address makes no company now, and a contact that mail linked to one
    before leaves it when it is enriched again (extraction sends every contact it touches to
    enrich-contact); a company the user chose for the contact or named stays."""
    people = {
        "ann.ames@nc.rr.com": "Ann Ames",
        "bob.burns@comcast.net": "Bob Burns",
        "cy.cole@socal.rr.com": "Cy Cole",
        "dee.dunn@optonline.net": "Dee Dunn",
        "sam.reed@globex.com": "Sam Reed",
    }
    letters = [f"{name} <{address}>" for address, name in people.items()]
    root = write_maildir(
        tmp_path / "mail",
        {
            "inbox": [mail(n, sender=p, to=OWNER) for n, p in enumerate(letters, 1)],
            "Sent": [mail(n, sender=OWNER, to=p) for n, p in enumerate(letters, 11)],
        },
    )
    await import_mail(root, OWNER)
    await extract()
    assert await rows.all("SELECT domain FROM crm.companies") == [("globex.com",)]
    ids = {a: (await rows.contact(a) or {})["id"] for a in people}
    user_id = await rows.one(
        "SELECT user_id FROM crm.contacts WHERE id = %s", ids["ann.ames@nc.rr.com"]
    )
    # as extraction left them before the providers were known: one company per domain
    made = {}
    for domain, name, name_source in (
        ("rr.com", "RR", "domain"),
        ("comcast.net", "Comcast", "domain"),
        ("optonline.net", "The Dunns", "user"),
    ):
        made[domain] = await rows.one(
            "INSERT INTO crm.companies (user_id, domain, name, name_source)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            user_id,
            domain,
            name,
            name_source,
        )
    async with pool.connection() as conn:
        for address, domain, source in (
            ("ann.ames@nc.rr.com", "rr.com", "mail"),
            ("bob.burns@comcast.net", "comcast.net", "mail"),
            ("cy.cole@socal.rr.com", "rr.com", "you"),
            ("dee.dunn@optonline.net", "optonline.net", "mail"),
        ):
            await conn.execute(
                "UPDATE crm.contacts SET company_id = %s, company_source = %s WHERE id = %s",
                (made[domain], source, ids[address]),
            )
    globex = (await rows.contact("sam.reed@globex.com") or {})["company_id"]

    outputs = {}
    for address, contact_id in ids.items():
        async with pool.connection() as conn, conn.transaction():
            outputs[address] = await contacts_service.enrich_contact(
                conn, contact_id, providers=enrichment.default_providers(), now=SystemClock().now()
            )
    companies_now = {a: (await rows.contact(a) or {})["company_id"] for a in people}
    assert companies_now == {
        "ann.ames@nc.rr.com": None,
        "bob.burns@comcast.net": None,
        "cy.cole@socal.rr.com": made["rr.com"],  # chosen by the user
        "dee.dunn@optonline.net": made["optonline.net"],  # a company the user named
        "sam.reed@globex.com": globex,
    }
    assert [a for a, out in outputs.items() if out.get("left_company")] == [
        "ann.ames@nc.rr.com",
        "bob.burns@comcast.net",
    ]
    # without people, "Comcast" leaves the companies list; its row stays (notes, tags, merges)
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contacts WHERE company_id = %s", made["comcast.net"]
        )
        == 0
    )
    async with pool.connection() as conn, conn.transaction():  # enriching again changes nothing
        again = await contacts_service.enrich_contact(
            conn,
            ids["cy.cole@socal.rr.com"],
            providers=enrichment.default_providers(),
            now=SystemClock().now(),
        )
    assert "left_company" not in again
