"""Webhook delivery on the queue against a local receiver: while it is down every attempt fails
and is retried with backoff (a short one here: the real one is in deliver_webhook.QUEUE_OPTIONS
and bench/webhook_outage.py); once it is back every event arrives, signed, once, in order per
contact. Retries spent: the dead letter marks the delivery failed, later ones go on, and a
resend delivers it. Events come from the database triggers (contacts, relationships) and the
sync job's failure."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.crm.webhooks import repo as webhooks_repo
from fluffymail.jobs import deliver_webhook, dispatch_webhooks, sync_emails, webhook_dead_letter
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.web.services import webhooks as service
from tests.helpers import settled, wait_for
from tests.integration.conftest import Sql
from tests.webhook_receiver import Receiver, verify

FAST_RETRIES = {"retry_delay": 1, "retry_backoff": True, "retry_delay_max": 1}
PEOPLE = 4
CHANGES = 3  # renames per contact, after its creation


async def _user(sql: Sql, email: str = "dana@x.test") -> int:
    return await sql.one("INSERT INTO crm.users (email) VALUES (%s) RETURNING id", email)


def _settings(db_url: str, tmp_path: Path, receiver: Receiver) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path,
        outbound_allow="127.0.0.1",
        outbound_ports=str(receiver.port),
    )


async def _start(
    queue: JobQueue, settings: Settings, pool: AsyncConnectionPool, **retries: Any
) -> JobDeps:
    """The delivery queues with short retries, and their workers."""
    await queue.create_queue(webhook_dead_letter.QUEUE, **webhook_dead_letter.QUEUE_OPTIONS)
    await queue.create_queue(
        deliver_webhook.QUEUE, **{**deliver_webhook.QUEUE_OPTIONS, **FAST_RETRIES, **retries}
    )
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    clock = SystemClock()
    await queue.work(
        deliver_webhook.QUEUE, deliver_webhook.make_handler(deps, clock), concurrency=4
    )
    await queue.work(webhook_dead_letter.QUEUE, webhook_dead_letter.make_handler(deps, clock))
    return deps


async def _people_change(sql: Sql, user_id: int, round_: int) -> list[int]:
    """Contacts made (contact.created) or renamed (contact.updated), interleaved."""
    ids = []
    for n in range(PEOPLE):
        if round_ == 0:
            ids.append(
                await sql.one(
                    "INSERT INTO crm.contacts (user_id, primary_address, name, created)"
                    " VALUES (%s, %s, %s, true) RETURNING id",
                    user_id,
                    f"p{n}@x.test",
                    f"Person {n}",
                )
            )
        else:
            await sql.execute(
                "UPDATE crm.contacts SET name = %s WHERE user_id = %s AND primary_address = %s",
                f"Person {n} v{round_}",
                user_id,
                f"p{n}@x.test",
            )
    return ids


async def _failed_attempts(sql: Sql) -> int:
    return await sql.one("SELECT count(*) FROM crm.webhook_attempts WHERE status IS NULL")


async def test_delivery__receiver_down_then_back_gets_every_event_once_in_order(
    pool: AsyncConnectionPool, make_queue, sql: Sql, db_url: str, tmp_path: Path
) -> None:
    receiver = Receiver()  # not started: down
    settings = _settings(db_url, tmp_path, receiver)
    user_id = await _user(sql)
    made = await service.create(
        pool,
        settings,
        user_id,
        url=receiver.url,
        events=["contact.created", "contact.updated"],
    )
    queue = make_queue()
    deps = await _start(queue, settings, pool)
    await _people_change(sql, user_id, 0)
    await _people_change(sql, user_id, 1)
    assert (await dispatch_webhooks.dispatch(deps))["deliveries"] == PEOPLE * 2
    # Down: each contact's first delivery fails again and again; the later ones wait.
    await wait_for(lambda: _at_least(sql, PEOPLE * 3), within=60)
    for round_ in range(2, CHANGES + 1):  # more changes while it is down
        await _people_change(sql, user_id, round_)
    await dispatch_webhooks.dispatch(deps)
    tried = await sql.all(
        "SELECT e.payload ->> 'contact_id', d.id, d.attempts FROM crm.webhook_deliveries d"
        " JOIN crm.outgoing_events e ON e.id = d.event_id ORDER BY d.id"
    )
    firsts = {}
    for contact, delivery, attempts in tried:
        if contact in firsts:
            assert attempts == 0, "a later event was tried before an earlier one"
        else:
            firsts[contact] = delivery
    await receiver.start()  # back
    try:
        await wait_for(lambda: settled(queue, deliver_webhook.QUEUE), within=90)
    finally:
        await receiver.stop()
    events = PEOPLE * (CHANGES + 1)
    assert len(receiver.received) == events
    assert all(verify(made.secret, r) for r in receiver.received)
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(ids.values()) == {1}  # none twice
    per_contact: dict[int, list[int]] = defaultdict(list)
    for r in receiver.received:
        per_contact[r.event["data"]["contact_id"]].append(int(r.headers["webhook-id"][4:]))
    assert len(per_contact) == PEOPLE
    for order in per_contact.values():
        assert order == sorted(order) and len(order) == CHANGES + 1
    kinds = [r.event["type"] for r in receiver.received]
    assert kinds.count("contact.created") == PEOPLE
    states = await sql.all("SELECT state, count(*) FROM crm.webhook_deliveries GROUP BY 1")
    assert states == [("delivered", events)]
    assert await _failed_attempts(sql) >= PEOPLE * 3


async def _at_least(sql: Sql, failures: int) -> bool:
    return await _failed_attempts(sql) >= failures


async def test_delivery__retries_spent_dead_letter_then_resend(
    pool: AsyncConnectionPool, make_queue, sql: Sql, db_url: str, tmp_path: Path
) -> None:
    receiver = Receiver(status=500)
    await receiver.start()
    settings = _settings(db_url, tmp_path, receiver)
    user_id = await _user(sql)
    made = await service.create(
        pool, settings, user_id, url=receiver.url, events=["contact.created", "contact.updated"]
    )
    queue = make_queue()
    deps = await _start(queue, settings, pool, retry_limit=1)
    try:
        contact = await sql.one(
            "INSERT INTO crm.contacts (user_id, primary_address, name, created)"
            " VALUES (%s, 'ada@x.test', 'Ada', true) RETURNING id",
            user_id,
        )
        await dispatch_webhooks.dispatch(deps)
        # 2 attempts, then the dead letter (whose job marks it failed, if the last attempt
        # has not)
        await wait_for(lambda: _dead_lettered(queue), within=30)
        await wait_for(lambda: _state_is(sql, "failed"), within=10)
        [(first, attempts, status)] = await sql.all(
            "SELECT id, attempts, last_status FROM crm.webhook_deliveries"
        )
        assert (attempts, status) == (2, 500)
        dead = await queue.find_jobs(name=webhook_dead_letter.QUEUE)
        assert [j.data for j in dead] == [{"delivery_id": first}]
        # A later event of the same contact is not held back by the failed one.
        receiver.status = 200
        await sql.execute("UPDATE crm.contacts SET name = 'Ada L' WHERE id = %s", contact)
        await dispatch_webhooks.dispatch(deps)
        await wait_for(lambda: settled(queue, deliver_webhook.QUEUE), within=30)
        assert [r.event["type"] for r in receiver.received] == ["contact.updated"]
        again = await service.resend(pool, queue, user_id, made.webhook.id, first)
        assert again.resend_of == first and again.state == "pending"
        await wait_for(lambda: settled(queue, deliver_webhook.QUEUE), within=30)
        assert [r.event["type"] for r in receiver.received] == [
            "contact.updated",
            "contact.created",
        ]
        log = await service.deliveries(pool, user_id, made.webhook.id)
        assert (log[0].id, log[0].state.value) == (again.id, "delivered")
        assert [a.status for a in log[-1].log] == [500, 500]
    finally:
        await receiver.stop()


async def _dead_lettered(queue: JobQueue) -> bool:
    return await settled(queue, webhook_dead_letter.QUEUE) and bool(
        await queue.find_jobs(name=webhook_dead_letter.QUEUE)
    )


async def _state_is(sql: Sql, state: str) -> bool:
    return await sql.one("SELECT state FROM crm.webhook_deliveries ORDER BY id LIMIT 1") == state


async def test_events__recorded_only_for_subscribed_kinds_from_their_sources(
    pool: AsyncConnectionPool, make_queue, sql: Sql, db_url: str, tmp_path: Path
) -> None:
    """No subscription: nothing is recorded. Subscribed: contacts shown or changed by anyone,
    a relationship passing a level or going cold, a title set by hand; counts are no change."""
    user_id = await _user(sql)
    await sql.execute(
        "INSERT INTO crm.contacts (user_id, primary_address, created) VALUES (%s, 'a@x.test', true)",
        user_id,
    )
    assert await sql.one("SELECT count(*) FROM crm.outgoing_events") == 0
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    rules_ok = "https://93.184.216.34/hook"  # a public address: no DNS needed
    made = await service.create(pool, settings, user_id, url=rules_ok, events=list(_ALL))
    contact = await sql.one(
        "INSERT INTO crm.contacts (user_id, primary_address, created) VALUES (%s, 'b@x.test', false)"
        " RETURNING id",
        user_id,
    )
    await sql.execute("UPDATE crm.contacts SET sent_to_count = 3 WHERE id = %s", contact)
    await sql.execute("UPDATE crm.contacts SET created = true WHERE id = %s", contact)
    await sql.execute("UPDATE crm.contacts SET sent_to_count = 4 WHERE id = %s", contact)
    await sql.execute("UPDATE crm.contacts SET suppressed_reason = 'user' WHERE id = %s", contact)
    await sql.execute(
        "INSERT INTO crm.contact_facts (contact_id, field, value, kind, source, confidence,"
        " observed_on) VALUES (%s, 'title', 'CTO', '', 'you', 1, now())",
        contact,
    )
    await sql.execute(
        "INSERT INTO crm.relationships (user_id, contact_id, score, level, trend)"
        " VALUES (%s, %s, 35, 'weak', 'steady')",
        user_id,
        contact,
    )
    for score, level in ((38, "weak"), (45, "moderate")):
        await sql.execute(
            "UPDATE crm.relationships SET score = %s, level = %s WHERE contact_id = %s",
            score,
            level,
            contact,
        )
    rows = await sql.all("SELECT kind, payload FROM crm.outgoing_events ORDER BY id")
    assert [k for k, _ in rows] == [
        "contact.created",
        "contact.updated",
        "contact.updated",
        "relationship.changed",
    ]
    assert rows[1][1]["changed"] == ["hidden"] and rows[1][1]["hidden"] == "user"
    assert rows[2][1]["changed"] == ["title"] and rows[2][1]["title"] == "CTO"
    assert rows[3][1]["level"] == "moderate" and rows[3][1]["previous_level"] == "weak"
    async with pool.connection() as conn:  # a sync that fails says so; one interrupted does not
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user_id, kind=ConnectionKind.MBOX, source="/m.mbox", display_name="Old"
        )
    await sync_emails._fail(pool, connection, SystemClock(), sync_emails.INTERRUPTED)
    await sync_emails._fail(pool, connection, SystemClock(), "the mail files could not be read")
    [(failed,)] = await sql.all(
        "SELECT payload FROM crm.outgoing_events WHERE kind = 'sync.failed'"
    )
    assert failed["connection_id"] == connection.id and failed["connection"] == "Old"
    assert failed["error"] == "the mail files could not be read" and not failed["needs_reauth"]
    queue = make_queue()  # no workers: the address above is not reachable from tests
    await queue.create_queue(webhook_dead_letter.QUEUE, **webhook_dead_letter.QUEUE_OPTIONS)
    await queue.create_queue(deliver_webhook.QUEUE, **deliver_webhook.QUEUE_OPTIONS)
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    assert (await dispatch_webhooks.dispatch(deps)) == {"events": 5, "deliveries": 5}
    jobs = await queue.find_jobs(name=deliver_webhook.QUEUE)
    assert {j.group_key for j in jobs} == {
        f"webhook-{made.webhook.id}:contact-{contact}",
        f"webhook-{made.webhook.id}:connection-{connection.id}",
    }
    assert await sql.one("SELECT count(*) FROM crm.outgoing_events WHERE delivered_on IS NULL") == 0


_ALL = (
    "contact.created",
    "contact.updated",
    "relationship.changed",
    "followup.due",
    "sync.failed",
)


async def test_secrets__rotate_to_a_new_key(
    pool: AsyncConnectionPool, sql: Sql, db_url: str, tmp_path: Path
) -> None:
    """`fluffymail secrets rotate` re-encrypts webhook secrets too: afterwards the new key
    alone reads them."""
    old, new = secrets.generate_key(), secrets.generate_key()
    before = Settings(database_url=db_url, data_dir=tmp_path, secret_key=old)
    user_id = await _user(sql)
    made = await service.create(pool, before, user_id, url="https://93.184.216.34/", events=_ALL)
    both = secrets.open_box(Settings(secret_key=new, old_secret_keys=old))
    async with pool.connection() as conn:
        assert await webhooks_repo.rotate_secrets(conn, both) == (1, [])
        assert await webhooks_repo.rotate_secrets(conn, both) == (0, [])
        stored = bytes(
            (await (await conn.execute("SELECT secret FROM crm.webhooks")).fetchone())[0]
        )
    assert secrets.SecretBox(new.encode()).decrypt(stored).decode() == made.secret


async def test_events__one_statement_of_many_rows_records_each_subscribed_row_in_order(
    pool: AsyncConnectionPool, sql: Sql, db_url: str, tmp_path: Path
) -> None:
    """An import's or an extraction batch's single INSERT: an event per shown contact of the
    subscribed user, in row order; none for a user without a subscription, a contact not
    shown or one hidden; the same for facts set by hand in one statement."""
    dana, eve = await _user(sql), await _user(sql, "eve@x.test")
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    await service.create(pool, settings, dana, url="https://93.184.216.34/hook", events=list(_ALL))
    made = await sql.all(
        "INSERT INTO crm.contacts (user_id, primary_address, created, suppressed_reason)"
        " SELECT u, a, c, s FROM (VALUES (%s::bigint, 'c1@x.test', true, NULL),"
        " (%s, 'e1@x.test', true, NULL), (%s, 'c2@x.test', false, NULL),"
        " (%s, 'c3@x.test', true, 'user'), (%s, 'c4@x.test', true, NULL)) v (u, a, c, s)"
        " RETURNING id, primary_address",
        dana, eve, dana, dana, dana,
    )  # fmt: skip
    ids = {address: id_ for id_, address in made}
    rows = await sql.all("SELECT kind, user_id, payload FROM crm.outgoing_events ORDER BY id")
    assert [(k, u, p["address"]) for k, u, p in rows] == [
        ("contact.created", dana, "c1@x.test"),
        ("contact.created", dana, "c4@x.test"),
    ]
    await sql.execute("DELETE FROM crm.outgoing_events")
    await sql.execute(
        "INSERT INTO crm.contact_facts (contact_id, field, value, kind, source, confidence,"
        " observed_on) VALUES (%s, 'title', 'CTO', '', 'you', 1, now()),"
        " (%s, 'title', 'CEO', '', 'mail', 1, now()), (%s, 'phone', '+1 555 0100', '', 'you',"
        " 1, now()), (%s, 'title', 'Chair', '', 'you', 1, now())",
        ids["c1@x.test"], ids["c4@x.test"], ids["c4@x.test"], ids["e1@x.test"],
    )  # fmt: skip
    rows = await sql.all("SELECT kind, payload FROM crm.outgoing_events ORDER BY id")
    assert [(k, p["address"], p["changed"]) for k, p in rows] == [
        ("contact.updated", "c1@x.test", ["title"]),
        ("contact.updated", "c4@x.test", ["phone"]),
    ]
