"""extract-contacts over a real Enron mailbox (allen-p): self, bulk, policy, counts, idempotency."""

from __future__ import annotations

import csv
from pathlib import Path

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import addresses, automated
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.contacts.enrichment import default_providers
from tests.corpus import CORPUS, skip_without
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

ALLEN = CORPUS / "enron" / "mbox" / "allen-p"
OWNER = "phillip.allen@enron.com"
pytestmark = skip_without(ALLEN)


def correspondent_truth(address: str) -> dict[str, str]:
    path = CORPUS / "ground_truth" / "enron_owner_correspondents.tsv"
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["custodian"] == "allen-p" and row["correspondent"] == address:
                return row
    raise AssertionError(f"{address} not in the ground truth")


async def test_enron__self_bulk_policy_counts_and_rerun(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    connection = await import_mail(ALLEN, OWNER)
    result = await extract()
    assert result.messages == await rows.one("SELECT count(*) FROM crm.messages") > 1000

    # the owner and the sent-folder Froms with the owner's name (k..allen) are the user, not
    # contacts; the assistant sending from the sent folder is a delegate, a contact
    aliases = {r[0] for r in await rows.all("SELECT address FROM crm.user_aliases")}
    assert aliases == {OWNER, "k..allen@enron.com"}
    assert await rows.one(
        "SELECT kind FROM crm.mailbox_senders WHERE address = 'ina.rangel@enron.com'"
    ) == ("delegate")
    ina = await rows.contact("ina.rangel@enron.com")
    assert ina is not None and ina["suppressed_reason"] is None and ina["sent_to"] > 50
    for alias in aliases:
        contact = await rows.contact(alias)
        assert contact is None or contact["suppressed_reason"] == "self", contact

    # automated / bulk / role / >20-recipient mail is kept, with a reason, and links nobody
    assert await rows.one("SELECT count(*) FROM crm.message_automated") > 0
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contact_links l"
            " JOIN crm.message_automated a ON a.message_id = l.message_id"
        )
        == 0
    )
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.messages m WHERE (list_id IS NOT NULL"
            " OR list_unsubscribe IS NOT NULL OR precedence IN ('bulk', 'list', 'junk'))"
            " AND NOT EXISTS (SELECT 1 FROM crm.message_automated a WHERE a.message_id = m.id)"
        )
        == 0
    )
    contact_addresses = [r[0] for r in await rows.all("SELECT address FROM crm.contact_addresses")]
    assert not [a for a in contact_addresses if automated.is_role_address(a)]
    # damaged addresses (`.hall@enron.com`) are kept as written, with their defect (issue 12)
    kept = [addresses.normalize_address(a, keep_damaged=True) for a in contact_addresses]
    assert all(n is not None and n.email == a for n, a in zip(kept, contact_addresses, strict=True))
    assert not await rows.all(
        "SELECT address FROM crm.contact_addresses WHERE defect IS DISTINCT FROM"
        " CASE WHEN address LIKE '.%%' THEN 'leading_dot' WHEN address LIKE '%%.@%%'"
        " THEN 'trailing_dot' WHEN split_part(address, '@', 1) LIKE '%%..%%' THEN 'doubled_dot' END"
    )

    # default policy "sent": visible contacts are exactly the people the owner wrote to, or a
    # delegate wrote to (or was) on the owner's behalf
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contacts c WHERE c.created AND NOT EXISTS ("
            " SELECT 1 FROM crm.contact_addresses a JOIN crm.contact_links l"
            " ON l.user_id = a.user_id AND l.address = a.address"
            " AND l.role IN ('sent_to', 'cc', 'received_from')"
            " JOIN crm.messages m ON m.id = l.message_id"
            " JOIN (SELECT user_id, address, 'alias' AS kind FROM crm.user_aliases UNION ALL"
            "       SELECT user_id, address, kind FROM crm.mailbox_senders"
            "       WHERE kind = 'delegate') u"
            " ON u.user_id = m.user_id AND u.address = m.from_address"
            " AND (l.role <> 'received_from' OR u.kind = 'delegate')"
            " WHERE a.contact_id = c.id)"
        )
        == 0
    )
    counted_only = await rows.all(
        "SELECT c.primary_address FROM crm.contacts c WHERE NOT c.created AND c.received_from_count > 0"
        " AND c.suppressed_reason IS NULL AND c.merged_into_id IS NULL ORDER BY c.id"
    )
    assert counted_only, "cold inbound senders are counted, not shown"

    # counts by direction against the corpus ground truth for the top correspondent
    truth = correspondent_truth("jsmith@austintx.com")
    jsmith = await rows.contact("jsmith@austintx.com")
    assert jsmith is not None and jsmith["created"] and not jsmith["is_internal"]
    assert (jsmith["sent_to"], jsmith["received_from"]) == (
        int(truth["owner_sent_to"]),
        int(truth["received_from"]),
    )
    grigsby = await rows.contact("mike.grigsby@enron.com")
    assert grigsby is not None and grigsby["is_internal"] and grigsby["company_id"] is None
    assert grigsby["name"] == "Mike Grigsby"

    # re-running extraction changes nothing
    before = await rows.snapshot()
    await extract()
    assert await rows.snapshot() == before

    # a counted-only sender appears the moment the owner replies
    stranger = counted_only[0][0]
    reply = mail(1, sender=f"Phillip K Allen <{OWNER}>", to=stranger, subject="Re: hello")
    mbox = tmp_path / "reply.mbox"
    mbox.write_bytes(b"From MAILER-DAEMON Mon Apr 18 14:23:23 2022\n" + reply + b"\n")
    await import_mail(mbox, OWNER)
    new_ids = [r[0] for r in await rows.all("SELECT message_id FROM crm.message_pending")]
    assert len(new_ids) == 1
    await extract(new_ids)
    contact = await rows.contact(stranger)
    assert contact is not None and contact["created"] and contact["sent_to"] >= 1
    assert connection.user_id == await rows.one("SELECT id FROM crm.users WHERE email = %s", OWNER)


async def test_enron__enrich_stores_signature_phones_with_their_source_message(
    import_mail: ImportMail, extract: Extract, rows: Rows, pool
) -> None:
    await import_mail(ALLEN, OWNER)
    await extract()
    senders = [
        r[0]
        for r in await rows.all(
            "SELECT id FROM crm.contacts WHERE created AND received_from_count > 0"
            " AND suppressed_reason IS NULL AND merged_into_id IS NULL ORDER BY id"
        )
    ]
    async with pool.connection() as conn:
        for contact_id in senders:
            async with conn.transaction():
                await contacts_service.enrich_contact(
                    conn, contact_id, providers=default_providers(), now=SystemClock().now()
                )
    phones = await rows.all(
        "SELECT f.contact_id, f.value, f.source_message_id, m.body_text, f.confidence"
        " FROM crm.contact_facts f JOIN crm.messages m ON m.id = f.source_message_id"
        " WHERE f.field = 'phone'"
    )
    assert phones, "some correspondent signs with a phone number"
    for contact_id, e164, message_id, body, confidence in phones:
        assert e164.startswith("+") and e164[1:].isdigit()
        assert e164[-4:] in body.replace("-", "").replace(" ", "").replace(".", "")
        assert 0 < confidence <= 1
        assert (
            await rows.one(  # the source is the contact's own message
                "SELECT count(*) FROM crm.contact_links l JOIN crm.contact_addresses a"
                " ON a.user_id = l.user_id AND a.address = l.address"
                " WHERE l.message_id = %s AND l.role = 'received_from' AND a.contact_id = %s",
                message_id,
                contact_id,
            )
            == 1
        )
    gravatars = await rows.one("SELECT count(*) FROM crm.contact_facts WHERE field = 'gravatar'")
    assert gravatars == len(senders)
