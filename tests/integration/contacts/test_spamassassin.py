"""SpamAssassin corpus: no spam sender becomes a visible contact; list mail is recognised."""

from __future__ import annotations

from tests.corpus import CORPUS, skip_without
from tests.integration.contacts.conftest import Extract, ImportMail, Rows

SPAM = CORPUS / "spamassassin" / "spam"
HAM = CORPUS / "spamassassin" / "easy_ham"


@skip_without(SPAM)
async def test_spam__no_sender_becomes_a_contact_under_the_default_policy(
    import_mail: ImportMail, extract: Extract, rows: Rows
) -> None:
    await import_mail(SPAM, "jm@jmason.org")
    result = await extract()
    assert result.messages > 400
    assert await rows.one("SELECT count(*) FROM crm.contacts WHERE created") == 0


@skip_without(HAM)
async def test_easy_ham__mailing_list_mail_is_recognised_as_list_mail(
    import_mail: ImportMail, extract: Extract, rows: Rows
) -> None:
    await import_mail(HAM, "jm@jmason.org")
    await extract()
    [(listed, recognised)] = await rows.all(
        "SELECT count(*), count(a.reason) FROM crm.messages m"
        " LEFT JOIN crm.message_automated a ON a.message_id = m.id WHERE m.list_id IS NOT NULL"
    )
    assert listed > 1000 and recognised == listed
    assert (
        await rows.one(
            "SELECT count(*) FROM crm.contact_links l JOIN crm.messages m ON m.id = l.message_id"
            " WHERE m.list_id IS NOT NULL"
        )
        == 0
    )
