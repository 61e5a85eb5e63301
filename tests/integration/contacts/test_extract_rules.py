"""extract-contacts rules on small mailboxes: races, merges, policies, bounces and bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from fluffymail.cli import app
from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.jobs import extract_contacts
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.corpus import CORPUS, skip_without
from tests.helpers import settled, wait_for, write_maildir
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

OWNER = "olive@owner-co.com"
ME = f"Olive Owner <{OWNER}>"
BOUNCES = CORPUS / "malformed" / "mikel-mail" / "multipart_report_emails"


async def test_race__five_workers_sharing_a_new_participant_make_one_contact(
    import_mail: ImportMail, rows: Rows, queue: JobQueue, registry: Registry, tmp_path: Path
) -> None:
    sent = [
        mail(n, sender=ME, to="New Person <new.person@acme.com>", cc=f"peer{n}@acme.com")
        for n in range(40)
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await rows.all("DELETE FROM queue.job WHERE name = 'extract-contacts' RETURNING id")
    ids = [r[0] for r in await rows.all("SELECT id FROM crm.messages ORDER BY id")]
    await queue.insert(extract_contacts.QUEUE, [{"message_id": i} for i in ids])  # one per job
    entry = registry[extract_contacts.QUEUE]
    await queue.work(entry.name, entry.handler, concurrency=5)
    await wait_for(lambda: settled(queue, extract_contacts.QUEUE), 60)

    unfinished = await rows.all(
        "SELECT id, state, output FROM queue.job WHERE name = 'extract-contacts'"
        " AND state <> 'completed'"
    )
    assert unfinished == []
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contacts WHERE primary_address = 'new.person@acme.com'"
        )
        == 1
    )
    person = await rows.contact("new.person@acme.com")
    assert person is not None and (person["sent_to"], person["cc"]) == (40, 0)
    assert person["created"] and person["name"] == "New Person"
    assert await rows.one("SELECT count(*) FROM crm.companies WHERE domain = 'acme.com'") == 1
    assert await rows.one("SELECT count(*) FROM crm.contacts") == 41
    # a burst of mail enriches a contact once per debounce slot (two if the burst straddles one)
    slots = await rows.all(
        "SELECT singleton_on FROM queue.job WHERE name = 'enrich-contact'"
        " AND data->>'contact_id' = %s",
        str(person["id"]),
    )
    assert 1 <= len(slots) <= 2 and len(set(slots)) == len(slots)


async def test_merge__same_full_name_at_same_company_merges_reversibly(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    sent = [
        mail(1, sender=ME, to="Jane Doe <jane.doe@acme.com>"),
        mail(2, sender=ME, to="Jane Doe <jdoe@acme.com>"),
        mail(3, sender=ME, to="Jane Doe <jdoe@acme.com>"),
        mail(4, sender=ME, to="Jane Doe <jane.doe@gmail.com>"),  # free mail: no evidence
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    result = await extract()

    assert result.merges == 1
    jane, other = await rows.contact("jane.doe@acme.com"), await rows.contact("jdoe@acme.com")
    assert jane is not None and other is not None and jane["id"] == other["id"]
    assert jane["sent_to"] == 3 and jane["name"] == "Jane Doe"
    gmail = await rows.contact("jane.doe@gmail.com")
    assert gmail is not None and gmail["id"] != jane["id"]
    [(merge_id, addresses, reason)] = await rows.all(
        "SELECT id, addresses, reason FROM crm.contact_merges"
    )
    assert (addresses, reason) == (["jdoe@acme.com"], "same_name_same_company")

    async with pool.connection() as conn, conn.transaction():
        undone = await contacts_service.unmerge(
            conn, merge_id, actor=OWNER, now=SystemClock().now()
        )
    assert undone
    jane, other = await rows.contact("jane.doe@acme.com"), await rows.contact("jdoe@acme.com")
    assert jane is not None and other is not None and jane["id"] != other["id"]
    assert (jane["sent_to"], other["sent_to"]) == (1, 2)
    assert other["merged_into_id"] is None and other["created"]
    assert await rows.one("SELECT unmerged_by FROM crm.contact_merges") == OWNER

    before = await rows.snapshot()
    await extract()  # an undone merge is not redone automatically
    assert await rows.snapshot() == before


@pytest.mark.parametrize(
    ("policy", "visible"),
    [
        ("sent", {"friend@acme.com"}),
        ("sent_and_received", {"friend@acme.com", "cold@vendor-co.com"}),
        ("none", set()),
    ],
)
async def test_policy__decides_who_is_visible_everyone_is_counted(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    tmp_path: Path,
    policy: str,
    visible: set[str],
) -> None:
    root = write_maildir(
        tmp_path / "mail",
        {
            "inbox": [mail(1, sender="Cold Caller <cold@vendor-co.com>", to=OWNER)],
            "Sent": [mail(2, sender=ME, to="Friend <friend@acme.com>")],
        },
    )
    await import_mail(root, OWNER, policy=policy)
    await extract()
    shown = {r[0] for r in await rows.all("SELECT primary_address FROM crm.contacts WHERE created")}
    assert shown == visible
    cold = await rows.contact("cold@vendor-co.com")
    assert cold is not None and cold["received_from"] == 1


async def test_bad_input__no_crash_and_no_junk_contact(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    crowd = ", ".join(f"p{i}@crowd-co.com" for i in range(10_000))
    sent = [
        mail(1, sender="", to="nobody-from@acme.com"),  # no From at all
        mail(2, sender="Bob Smith", to="x@acme.com"),  # a display name, no address
        mail(3, sender=ME, to="Bob <bob@acme.com.>"),  # trailing dot
        mail(4, sender=ME, to="=?utf-8?q?J=C3=BCrgen?= <user@xn--bcher-kva.de>"),  # IDN, ASCII form
        mail(5, sender=ME, to="user@bücher.de"),  # IDN, Unicode form: the same mailbox
        mail(6, sender=ME, to=crowd),  # 10,000 recipients
        mail(7, sender=ME, to="undisclosed-recipients:;"),
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    result = await extract()

    assert result.messages == 7
    addresses = {r[0] for r in await rows.all("SELECT address FROM crm.contact_addresses")}
    assert addresses == {"bob@acme.com", "user@bücher.de"}
    reasons = dict(
        await rows.all(
            "SELECT m.subject, a.reason FROM crm.messages m"
            " LEFT JOIN crm.message_automated a ON a.message_id = m.id"
        )
    )
    assert reasons["note 1"] == reasons["note 2"] == "no_sender"
    assert reasons["note 6"] == "too_many_recipients"
    idn = await rows.contact("user@bücher.de")
    assert idn is not None and idn["sent_to"] == 2


@skip_without(BOUNCES)
async def test_bounce__delivery_report_marks_the_address_undeliverable(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    owner = "rahul.chaudhari@ll.com"
    bounced = "bbbbvhvbbvkjbhfbvbvjhb@gmail.com"
    sent = [mail(1, sender=owner, to=bounced)]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), owner)
    await import_mail(BOUNCES, owner)  # real bounces, read in place
    await extract()

    assert (
        await rows.one(
            "SELECT undeliverable FROM crm.contact_addresses WHERE address = %s", bounced
        )
        is True
    )
    assert await rows.one("SELECT count(*) FROM crm.bounced_addresses") >= 3
    daemon = await rows.contact("mailer-daemon@lvmail01.ll.com")
    assert daemon is None  # the report itself makes no contact


async def test_alias_found_later__earlier_extraction_is_repaired(
    import_mail: ImportMail, rows: Rows, queue: JobQueue, registry: Registry, tmp_path: Path
) -> None:
    alias = "Olive Owner <olive.owner@home-co.com>"  # the owner's name, half the sent folder
    root = write_maildir(
        tmp_path / "mail",
        {
            "inbox": [mail(1, sender=alias, to="Pat Partner <pat@partner-co.com>")],
            "Sent": [mail(n, sender=alias, to="Quinn <quinn@partner-co.com>") for n in range(2, 7)]
            + [mail(n, sender=ME, to="Quinn <quinn@partner-co.com>") for n in range(7, 12)],
        },
    )
    await import_mail(root, OWNER)
    await rows.all("DELETE FROM queue.job WHERE name = 'extract-contacts' RETURNING id")
    ids = [r[0] for r in await rows.all("SELECT id FROM crm.messages ORDER BY subject")]
    inbox, sent = ids[0], ids[1:]  # note 1, then notes 10, 11, 2, ...
    entry = registry[extract_contacts.QUEUE]
    await queue.work(entry.name, entry.handler, concurrency=5)
    await queue.send(extract_contacts.QUEUE, {"message_id": inbox})  # al looks like a stranger
    await wait_for(lambda: settled(queue, extract_contacts.QUEUE), 30)
    await queue.send(extract_contacts.QUEUE, {"message_ids": sent})
    await wait_for(lambda: settled(queue, extract_contacts.QUEUE), 30)

    assert await rows.one(
        "SELECT source FROM crm.user_aliases WHERE address = 'olive.owner@home-co.com'"
    ) == ("sent_folder")
    al = await rows.contact("olive.owner@home-co.com")
    assert al is not None and al["suppressed_reason"] == "self"
    pat = await rows.contact("pat@partner-co.com")  # the alias's mail was the user's all along
    assert pat is not None and (pat["sent_to"], pat["cc"], pat["created"]) == (1, 0, True)
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contact_links WHERE address = 'olive.owner@home-co.com'"
        )
        == 0
    )
    assert (
        await rows.one(
            "SELECT count(*) FROM queue.job WHERE name = 'extract-contacts'"
            " AND data ? 'repair_user_id' AND state = 'completed'"
        )
        == 1
    )


async def test_delegates__assistant_and_namesake_sending_from_the_sent_folder_stay_people(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    assistant = "Ina Aide <ina.aide@owner-co.com>"  # sends a real share, a different name
    namesake = "Oscar Owner <oscar.owner@owner-co.com>"  # same family name, other given name
    once = "Olive Owner <olive@old-home.net>"  # the owner's name, one message: not enough
    sent = (
        [mail(n, sender=ME, to=assistant) for n in range(10)]
        + [mail(n, sender=assistant, to="Pat Partner <pat@partner-co.com>") for n in range(10, 16)]
        + [mail(n, sender=namesake, to="Pat Partner <pat@partner-co.com>") for n in range(16, 22)]
        + [mail(22, sender=once, to="Pat Partner <pat@partner-co.com>")]
    )
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await extract()

    aliases = {r[0] for r in await rows.all("SELECT address FROM crm.user_aliases")}
    assert aliases == {OWNER}
    kinds = dict(await rows.all("SELECT address, kind FROM crm.mailbox_senders"))
    assert kinds == {
        "ina.aide@owner-co.com": "delegate",
        "oscar.owner@owner-co.com": "delegate",
        "olive@old-home.net": "delegate",
    }
    ina = await rows.contact("ina.aide@owner-co.com")
    assert ina is not None and ina["suppressed_reason"] is None
    assert (ina["sent_to"], ina["received_from"], ina["created"]) == (10, 6, True)


async def test_confirmed_alias__rejecting_it_reattributes_its_mail(
    import_mail: ImportMail, extract: Extract, rows: Rows, pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    assistant = "Ina Aide <ina.aide@owner-co.com>"
    sent = [mail(n, sender=ME, to=assistant) for n in range(6)] + [
        mail(6, sender=assistant, to="Pat Partner <pat@partner-co.com>")
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await extract()
    now = SystemClock().now()
    async with pool.connection() as conn, conn.transaction():  # the user says it is them
        user_id = await rows.one("SELECT id FROM crm.users")
        await contacts_service.confirm_alias(
            conn, user_id, "ina.aide@owner-co.com", now=now, actor=OWNER
        )
    ina = await rows.contact("ina.aide@owner-co.com")
    assert ina is not None and ina["suppressed_reason"] == "self"

    async with pool.connection() as conn, conn.transaction():
        await contacts_service.release_aliases(
            conn, user_id, ["ina.aide@owner-co.com"], now=now, actor=OWNER
        )
    assert await rows.one("SELECT count(*) FROM crm.user_aliases") == 1
    ina = await rows.contact("ina.aide@owner-co.com")
    assert ina is not None and ina["suppressed_reason"] is None
    assert (ina["sent_to"], ina["received_from"]) == (6, 1)
    assert await rows.one(
        "SELECT kind || '/' || decided_by FROM crm.mailbox_senders"
        " WHERE address = 'ina.aide@owner-co.com'"
    ) == ("delegate/user")


async def test_legacy_alias__next_extraction_releases_it_and_its_mail_is_the_assistants(
    import_mail: ImportMail, extract: Extract, rows: Rows, db_url: str, tmp_path: Path
) -> None:
    assistant = "Ina Aide <ina.aide@owner-co.com>"
    sent = [mail(n, sender=ME, to=assistant) for n in range(6)] + [
        mail(6, sender=assistant, to="Pat Partner <pat@partner-co.com>")
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    user_id = await rows.one("SELECT id FROM crm.users")
    # what the one-message rule left behind, as migration 0017 marks it
    await rows.all(
        "INSERT INTO crm.user_aliases (user_id, address, source) VALUES"
        " (%s, 'ina.aide@owner-co.com', 'sent_folder') RETURNING address",
        user_id,
    )
    await rows.all(
        "INSERT INTO crm.mailbox_senders (user_id, address, kind, decided_by, reason) VALUES"
        " (%s, 'ina.aide@owner-co.com', 'alias', 'rule', 'legacy: one sent-folder message')"
        " RETURNING address",
        user_id,
    )

    await extract()

    assert await rows.one("SELECT count(*) FROM crm.user_aliases") == 1
    assert await rows.one("SELECT kind || ': ' || reason FROM crm.mailbox_senders") == (
        "delegate: a different person's name"
    )
    ina = await rows.contact("ina.aide@owner-co.com")
    assert ina is not None and ina["suppressed_reason"] is None
    assert (ina["sent_to"], ina["received_from"], ina["created"]) == (6, 1, True)
    pat = await rows.contact("pat@partner-co.com")  # sent on the owner's behalf
    assert pat is not None and pat["sent_to"] == 1

    args = ["contacts", "review-identity", "--user", OWNER]
    env = {"DATABASE_URL": db_url, "FLUFFYMAIL_LOG_LEVEL": "ERROR"}
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "delegate: ina.aide@owner-co.com (a different person's name; 1 sent)" in result.output
