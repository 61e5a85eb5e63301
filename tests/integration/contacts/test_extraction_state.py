"""Issue 19: extraction's state of a message lives beside it (0043), not in its row. A stored
message is pending until extracted, an automated one is recorded with its reason (and loses it
when a re-extraction no longer finds it automated), both go with the message, and neither a
sync nor an extraction updates a message row."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from tests.helpers import write_maildir
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

OWNER = "olive@owner-co.com"

# Counts every row an UPDATE writes in crm.messages (exact, unlike the cumulative statistics,
# which a backend reports late).
COUNT_UPDATES = """
CREATE TABLE public.message_updates (n bigint NOT NULL);
CREATE FUNCTION public.count_message_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.message_updates VALUES (1);
    RETURN NULL;
END
$$;
CREATE TRIGGER count_updates AFTER UPDATE ON crm.messages
    FOR EACH ROW EXECUTE FUNCTION public.count_message_update();
"""


def _inbox() -> list[bytes]:
    return [
        mail(1, sender="bob@acme.com", to=OWNER, subject="lunch"),
        mail(2, sender="", to=OWNER, subject="nobody"),
        mail(3, sender="news@acme.com", to=OWNER, subject="digest",
             headers="List-Id: <news.acme.com>\nList-Unsubscribe: <mailto:u@acme.com>"),
    ]  # fmt: skip


async def _state(rows: Rows) -> tuple[dict[str, bool], dict[str, str]]:
    """Per subject: still pending; and the automated reason of those that have one."""
    found = await rows.all(
        "SELECT m.subject, p.message_id IS NOT NULL, a.reason FROM crm.messages m"
        " LEFT JOIN crm.message_pending p ON p.user_id = m.user_id AND p.message_id = m.id"
        " LEFT JOIN crm.message_automated a ON a.user_id = m.user_id AND a.message_id = m.id"
    )
    return {s: pending for s, pending, _ in found}, {s: r for s, _, r in found if r is not None}


async def test_a_message_is_pending_until_extracted_and_keeps_its_automated_reason_beside_it(
    import_mail: ImportMail, extract: Extract, rows: Rows, pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    async with pool.connection() as conn:
        await conn.execute(COUNT_UPDATES)
    await import_mail(write_maildir(tmp_path / "mail", {"inbox": _inbox()}), OWNER)
    pending, automated = await _state(rows)
    assert pending == {"lunch": True, "nobody": True, "digest": True} and automated == {}

    result = await extract()
    assert result.messages == 3 and result.automated == 2
    pending, automated = await _state(rows)
    assert pending == {"lunch": False, "nobody": False, "digest": False}
    assert automated.keys() == {"nobody", "digest"} and automated["nobody"] == "no_sender"
    assert await rows.one("SELECT count(*) FROM public.message_updates") == 0  # no row rewritten

    # a reason an earlier extraction gave and this one no longer finds goes away
    [(lunch,)] = await rows.all("SELECT id FROM crm.messages WHERE subject = 'lunch'")
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.message_automated (user_id, message_id, reason)"
            " SELECT user_id, id, 'old_rule' FROM crm.messages WHERE id = %s",
            (lunch,),
        )
    await extract()
    assert (await _state(rows))[1] == automated

    # a message's pending and automated rows go with it, and only its own
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO crm.message_pending SELECT user_id, id FROM crm.messages")
        await conn.execute("DELETE FROM crm.messages WHERE subject IN ('nobody', 'lunch')")
    pending, automated = await _state(rows)
    assert pending == {"digest": True} and automated.keys() == {"digest"}
    assert await rows.one("SELECT count(*) FROM crm.message_pending") == 1
    assert await rows.one("SELECT count(*) FROM crm.message_automated") == 1
