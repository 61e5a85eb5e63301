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
