"""Issue 19: the fan-out rule reads evidence extraction records as it goes (0042) instead of
re-reading every recipient's whole history per batch. The evidence is what the old check
counted (the first three messages per address and sender: all the rule counts), accumulates
across batches, is idempotent, goes with its message, and mail naming a newly known alias
stops counting."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import service as contacts_service
from tests.helpers import write_maildir
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

OWNER = "olive@owner-co.com"
FAN = "westpower@acme.com"

# What the check counted before 0042, over all the stored mail (the migration's backfill).
OLD_DEFINITION = """
WITH me AS (
    SELECT id AS user_id, lower(email) AS address FROM crm.users
    UNION SELECT user_id, lower(address) FROM crm.user_aliases
    UNION SELECT user_id, lower(address) FROM crm.mailbox_senders
)
SELECT m.user_id, p.address, lower(coalesce(m.from_address, '')), m.id
FROM crm.message_participants p JOIN crm.messages m ON m.id = p.message_id
WHERE p.role IN ('to', 'cc')
  AND NOT EXISTS (SELECT 1 FROM me WHERE me.user_id = m.user_id
                                     AND me.address = lower(coalesce(m.from_address, '')))
  AND NOT EXISTS (SELECT 1 FROM crm.message_participants o
                  WHERE o.message_id = m.id AND o.role IN ('to', 'cc') AND o.address <> p.address)
  AND NOT EXISTS (SELECT 1 FROM crm.message_participants o
                  JOIN me ON me.user_id = m.user_id AND me.address = lower(o.address)
                  WHERE o.message_id = m.id AND o.role IN ('to', 'cc', 'bcc'))
"""
# ... of which the first three messages per address and sender are kept (all the rule counts)
KEPT = f"""
SELECT user_id, address, sender, id FROM (
    SELECT d.*, row_number() OVER (PARTITION BY user_id, address, sender ORDER BY id) AS n
    FROM ({OLD_DEFINITION}) AS d(user_id, address, sender, id)
) ranked WHERE n <= 3
"""
EVIDENCE = "SELECT user_id, address, sender, message_id FROM crm.fanout_evidence"


def _inbox() -> list[bytes]:
    fanned = [
        mail(30 + n, sender=f"{who}@acme.com", to=FAN, subject=f"desk {n}")
        for n, who in enumerate(("ann.lee", "carl.diaz", "ann.lee"))
    ]
    solo = [mail(50 + n, sender="kim@acme.com", to="pat@acme.com") for n in range(4)]
    named = [mail(60, sender="ann.lee@acme.com", to=FAN, cc=OWNER)]
    return fanned + solo + named + [mail(70, sender="bob@acme.com", to=OWNER)]


async def _kinds(rows: Rows) -> dict[str, str]:
    found = await rows.all(
        "SELECT primary_address, kind_reason FROM crm.contacts WHERE kind = 'group'"
    )
    return dict(found)


async def test_evidence_is_what_the_old_check_counted_and_accumulates_across_batches(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    await import_mail(
        write_maildir(tmp_path / "mail", {"inbox": _inbox()}), OWNER, policy="sent_and_received"
    )
    ids = [r[0] for r in await rows.all("SELECT id FROM crm.messages ORDER BY id")]
    for message_id in ids:  # one message per batch: the rule must see the earlier ones
        await extract([message_id])

    assert sorted(await rows.all(EVIDENCE)) == sorted(await rows.all(KEPT))
    # three messages to FAN alone from two senders; pat@ has four but from one sender
    assert await _kinds(rows) == {FAN: "fanout"}
    assert len(await rows.all(OLD_DEFINITION)) == 7 and len(await rows.all(EVIDENCE)) == 6
    before = sorted(await rows.all(EVIDENCE))
    await extract()  # a re-run adds nothing
    assert sorted(await rows.all(EVIDENCE)) == before


async def test_evidence_goes_with_its_message_and_with_a_newly_known_alias(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    await import_mail(write_maildir(tmp_path / "mail", {"inbox": _inbox()}), OWNER)
    await extract()
    [(user_id,)] = await rows.all("SELECT id FROM crm.users WHERE email = %s", OWNER)
    [(gone,)] = await rows.all(
        "SELECT message_id FROM crm.fanout_evidence WHERE address = 'pat@acme.com' LIMIT 1"
    )
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM crm.messages WHERE id = %s", (gone,))
    assert (gone,) not in [(r[3],) for r in await rows.all(EVIDENCE)]

    async with pool.connection() as conn, conn.transaction():
        await contacts_service.confirm_alias(
            conn, user_id, "pat@acme.com", now=SystemClock().now(), actor="test"
        )
    addresses = {r[1] for r in await rows.all(EVIDENCE)}
    assert "pat@acme.com" not in addresses and FAN in addresses
    assert sorted(await rows.all(EVIDENCE)) == sorted(await rows.all(KEPT))
