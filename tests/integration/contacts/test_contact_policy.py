"""Issue 12, section 5: an inbox-only import says why it made no contacts (with counts that match
the mail), and a connection's creation policy, once changed, is applied to the mail already
imported by the `apply-contact-policy` job: loosening shows the people held back, tightening
hides them again, except those the user added or worked on."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import policy
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.jobs import apply_contact_policy, extract_contacts
from fluffymail.queue import JobQueue
from fluffymail.queue.outcomes import Snooze
from fluffymail.queue.registry import Registry
from fluffymail.web.services import activity, corrections
from fluffymail.web.services import contact_policy as policy_service
from tests.integration.contacts.conftest import CLOCK, Extract, ImportMail, Rows
from tests.integration.web import policy_seed
from tests.integration.web.policy_seed import EVE, WROTE

ME = "me@example.com"


def inbox(tmp_path: Path, *, outgoing: bool = False) -> Path:
    return policy_seed.inbox(tmp_path, ME, outgoing=outgoing)


async def explain(
    pool: AsyncConnectionPool, user_id: int, connection_id: int
) -> policy.Explanation:
    async with pool.connection() as conn:
        found = await policy.explain(conn, user_id, connection_id)
    assert found is not None
    return found


async def visible(rows: Rows) -> set[str]:
    found = await rows.all(
        "SELECT primary_address FROM crm.contacts WHERE created AND merged_into_id IS NULL"
        " AND suppressed_reason IS NULL"
    )
    return {r[0] for r in found}


async def run_jobs(queue: JobQueue, registry: Registry, name: str) -> list[dict[str, object]]:
    """Every queued job of `name`, through its registered handler (as a worker runs it)."""
    outputs = []
    handle = registry[name].handler
    while jobs := await queue.fetch(name, batch_size=10):
        for job in jobs:
            output = await handle(job)
            await queue.complete(job, output)
            outputs.append(output)
    return outputs


async def test_inbox_only_import__explains_who_wrote_and_lists_them(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    import_mail: ImportMail,
    rows: Rows,
    tmp_path: Path,
) -> None:
    connection = await import_mail(inbox(tmp_path), ME)
    before = await explain(pool, connection.user_id, connection.id)
    assert (before.counts.messages, before.counts.pending) == (7, 7)
    assert before.sentence == "Finding the people in this mail…"

    outputs = await run_jobs(queue, registry, extract_contacts.QUEUE)

    assert sum(int(o["people_waiting"]) for o in outputs) == 3  # type: ignore[call-overload]
    assert any("3 people wrote to you" in str(o.get("note")) for o in outputs)
    found = await explain(pool, connection.user_id, connection.id)
    c = found.counts
    assert (c.policy, c.messages, c.pending, c.automated) == (Policy.SENT, 7, 0, 1)
    assert (c.wrote, c.waiting, c.written_to, c.contacts) == (3, 3, 0, 0)
    assert found.sentence == (
        "3 people wrote to you; they become contacts once you write to them or when you add"
        " them; 1 message was newsletters or automated mail."
    )
    assert await visible(rows) == set()
    async with pool.connection() as conn:
        senders, total = await policy.waiting(
            conn, connection.user_id, connection.id, limit=2, offset=0
        )
    assert total == 3
    assert [(s.address, s.messages) for s in senders] == [
        ("ann@acme.example", 3),
        ("bob@beta.example", 2),
    ]
    assert senders[0].name == "Ann Writer"

    async with pool.connection() as conn, conn.transaction():
        added = await policy.keep(
            conn, connection.user_id, [senders[1].contact_id], now=CLOCK.now()
        )
    assert added == [senders[1].contact_id]
    assert await visible(rows) == {"bob@beta.example"}
    after = (await explain(pool, connection.user_id, connection.id)).counts
    assert (after.wrote, after.waiting, after.contacts) == (3, 2, 1)


async def _tag_and_note(pool: AsyncConnectionPool, user_id: int, tagged: int, noted: int) -> None:
    async with pool.connection() as conn, conn.transaction():
        workspace = await activity.workspace_of(conn, user_id)
        cur = await conn.execute(
            "INSERT INTO crm.tags (workspace_id, name, colour) VALUES (%s, 'vip', 'red') RETURNING id",
            (workspace,),
        )
        tag = (await cur.fetchone())[0]  # type: ignore[index]
        await conn.execute(
            "INSERT INTO crm.contact_tags (contact_id, tag_id) VALUES (%s, %s)", (tagged, tag)
        )
        await conn.execute(
            "INSERT INTO crm.notes (workspace_id, author_id, contact_id, body) VALUES (%s, %s, %s, 'met')",
            (workspace, user_id, noted),
        )


async def test_policy_change__loosen_shows_tighten_hides_but_keeps_the_users_work(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    tmp_path: Path,
) -> None:
    connection = await import_mail(inbox(tmp_path, outgoing=True), ME)
    await extract()
    user_id = connection.user_id
    assert await visible(rows) == {"eve@delta.example"}  # written to: a contact under 'sent'
    ids = {a: (await rows.contact(a) or {})["id"] for a in [*WROTE, "eve@delta.example"]}

    loosened = await policy_service.set_policy(
        pool, queue, user_id, connection.id, Policy.SENT_AND_RECEIVED
    )
    assert loosened.job_id is not None and loosened.connection.contact_policy == "sent_and_received"
    [output] = await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert output["contacts_shown"] == 3 and output["waiting"] == 0
    assert await visible(rows) == {*WROTE, "eve@delta.example"}
    queued = await queue.find_jobs(limit=100)
    assert "analyze-relationships" in {j.name for j in queued}
    enriching = {j.data["contact_id"] for j in queued if j.name == "enrich-contact"}
    assert enriching >= {ids[a] for a in WROTE}  # shown now: enriched as new contacts are

    # The user works on some: tags Ann, writes a note about Bob; Cy is left alone.
    await _tag_and_note(pool, user_id, ids["ann@acme.example"], ids["bob@beta.example"])
    await policy_service.set_policy(pool, queue, user_id, connection.id, Policy.SENT)
    [output] = await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert output["contacts_hidden"] == 1
    assert await visible(rows) == {"ann@acme.example", "bob@beta.example", "eve@delta.example"}
    snapshot = await rows.snapshot()

    # Idempotent: applying the same policy again changes nothing.
    await apply_contact_policy.enqueue(
        queue, apply_contact_policy.Args(connection_id=connection.id, user_id=user_id)
    )
    [again] = await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert again["contacts_shown"] == again["contacts_hidden"] == 0
    assert await rows.snapshot() == snapshot

    # 'none' hides even the people the owner wrote to, never the user's work; back to 'sent'
    # shows them again. A later recount (a merge, a deletion) keeps the kept ones.
    await policy_service.set_policy(pool, queue, user_id, connection.id, Policy.NONE)
    await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert await visible(rows) == {"ann@acme.example", "bob@beta.example"}
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.contacts SET created = false WHERE id = ANY(%s)",
            ([ids["ann@acme.example"]],),
        )  # as if recounted by an older rule: recompute_counts must restore it from kept_on
        await contacts_repo.recompute_counts(conn, list(ids.values()), CLOCK.now())
    assert await visible(rows) == {"ann@acme.example", "bob@beta.example"}
    await policy_service.set_policy(pool, queue, user_id, connection.id, Policy.SENT)
    await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert await visible(rows) == {"ann@acme.example", "bob@beta.example", "eve@delta.example"}


async def test_policy_change__same_policy_sends_nothing_and_new_mail_follows_the_new_policy(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    import_mail: ImportMail,
    rows: Rows,
    tmp_path: Path,
) -> None:
    connection = await import_mail(inbox(tmp_path), ME)
    same = await policy_service.set_policy(
        pool, queue, connection.user_id, connection.id, Policy.SENT
    )
    assert same.job_id is None
    # Changed before extraction ran: the mail is extracted under the new policy, and the
    # re-application (which waits for extraction) has nothing left to change.
    await policy_service.set_policy(
        pool, queue, connection.user_id, connection.id, Policy.SENT_AND_RECEIVED
    )
    [job] = await queue.fetch(apply_contact_policy.QUEUE)
    with pytest.raises(Snooze):  # extraction is still to run: it waits for it
        await registry[apply_contact_policy.QUEUE].handler(job)
    await queue.complete(job, None)
    await run_jobs(queue, registry, extract_contacts.QUEUE)
    await apply_contact_policy.enqueue(
        queue, apply_contact_policy.Args(connection_id=connection.id, user_id=connection.user_id)
    )
    [output] = await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert output["contacts_shown"] == 0 and output["pending"] == 0
    assert await visible(rows) == set(WROTE)


async def test_added_contact__stays_visible_when_merged_into_a_hidden_one(
    pool: AsyncConnectionPool, import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    connection = await import_mail(inbox(tmp_path), ME)
    await extract()
    ann = (await rows.contact("ann@acme.example") or {})["id"]
    bob = (await rows.contact("bob@beta.example") or {})["id"]
    async with pool.connection() as conn, conn.transaction():
        await policy.keep(conn, connection.user_id, [ann], now=CLOCK.now())
        merged = await contacts_service.merge_contacts(
            conn, into_id=bob, from_id=ann, reason="same_name_same_company",
            actor="extract-contacts", now=CLOCK.now(),
        )  # fmt: skip
    assert merged is not None
    assert await visible(rows) == {"bob@beta.example"}  # Ann's addresses live on in Bob
    async with pool.connection() as conn, conn.transaction():
        assert await contacts_service.unmerge(conn, merged, actor="me", now=CLOCK.now())
    assert await visible(rows) == {"ann@acme.example"}


async def _reapply_page_by_page(
    pool: AsyncConnectionPool, user_id: int, connection_id: int, rows: Rows, *, loosen: bool
) -> None:
    """Re-plan the connection one message per transaction. After each, a sender who only
    wrote is visible once one of their messages is re-planned (loosening), or while one is
    still to re-plan (tightening: their old links still say so)."""
    spans = {
        address: (first, last)
        for address, first, last in await rows.all(
            "SELECT address, min(message_id), max(message_id) FROM crm.contact_links"
            " WHERE role = 'received_from' GROUP BY address"
        )
    }
    after_id = 0
    while True:
        async with pool.connection() as conn, conn.transaction():
            batch = await policy.reapply_batch(
                conn, user_id, connection_id, after_id=after_id, now=CLOCK.now(), limit=1
            )
        if batch.last_id is None:
            return
        after_id = batch.last_id
        shown = {
            a for a in WROTE if (spans[a][0] <= after_id if loosen else spans[a][1] > after_id)
        }
        assert await visible(rows) == {EVE, *shown}


async def test_policy_change__page_by_page_hides_each_sender_once_their_last_message_is_replanned(
    pool: AsyncConnectionPool, import_mail: ImportMail, extract: Extract, rows: Rows,
    tmp_path: Path,
) -> None:  # fmt: skip
    connection = await import_mail(inbox(tmp_path, outgoing=True), ME)
    await extract()
    user_id = connection.user_id
    async with pool.connection() as conn:
        await policy.set_policy(conn, user_id, connection.id, Policy.SENT_AND_RECEIVED)
    await _reapply_page_by_page(pool, user_id, connection.id, rows, loosen=True)
    assert await visible(rows) == {*WROTE, EVE}

    async with pool.connection() as conn:
        await policy.set_policy(conn, user_id, connection.id, Policy.SENT)
    await _reapply_page_by_page(pool, user_id, connection.id, rows, loosen=False)
    assert await visible(rows) == {EVE}


async def test_policy_change__never_hides_a_contact_the_user_made_by_hand(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    tmp_path: Path,
) -> None:
    async with pool.connection() as conn:
        user_id = (await mail_repo.get_or_create_user(conn, ME))[0].id
    made = await corrections.create_contact(pool, user_id, address="cy@gamma.example")
    connection = await import_mail(inbox(tmp_path), ME)
    assert connection.user_id == user_id
    await extract()
    assert await visible(rows) == {"cy@gamma.example"}  # added by hand; the others wait

    await policy_service.set_policy(pool, queue, user_id, connection.id, Policy.SENT_AND_RECEIVED)
    await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert await visible(rows) == set(WROTE)
    await policy_service.set_policy(pool, queue, user_id, connection.id, Policy.SENT)
    [output] = await run_jobs(queue, registry, apply_contact_policy.QUEUE)
    assert output["contacts_hidden"] == 2
    assert await visible(rows) == {"cy@gamma.example"}
    assert (await rows.contact("cy@gamma.example") or {})["id"] == made
