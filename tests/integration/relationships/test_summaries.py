"""The `summarize-relationship` job end to end with the offline provider: what goes in (only the
contact's threads with the user), what is stored, the cache, and `enqueue_many`."""

from __future__ import annotations

from fluffymail.crm.relationships.summaries import EXTRACTIVE
from fluffymail.jobs import summarize_relationship
from tests.integration.llm import summary_world
from tests.integration.llm.summary_world import (
    BEN,
    CAROL,
    USER,
    Mail,
    World,
    ben_history,
)

world = summary_world.world  # fixture


async def test_offline__stores_a_labelled_summary_citing_bens_messages(world: World) -> None:
    await world.add_mail(ben_history())

    job = await world.summarize(BEN)

    assert job["state"] == "completed"
    assert job["output"]["status"] == "ok" and job["output"]["generated_by"] == EXTRACTIVE
    stored = await world.stored(BEN)
    assert stored is not None
    assert (stored["status"], stored["generated_by"]) == ("ok", EXTRACTIVE)
    assert stored["prompt_version"] == "extractive/3"
    summary = stored["summary"]
    assert summary["ai_generated"] is False
    assert summary["who"] and summary["discussed"] and summary["next_step"]
    bens = {await world.message_id(n) for n in (1, 2, 3)}
    assert summary["citations"] and set(summary["citations"]) <= bens
    text = str(summary)
    assert "CAROL-SECRET" not in text and "DAVE-THIRD-PARTY" not in text
    assert stored["last_message_at"] == await world.one(
        "SELECT date FROM crm.messages WHERE id = %s", await world.message_id(3)
    )
    assert await world.usage() == (0, 0), "offline summaries spend no AI tokens"


async def test_offline__cached_until_new_mail_arrives(world: World) -> None:
    await world.add_mail(ben_history())
    await world.summarize(BEN)
    first = await world.stored(BEN)

    again = await world.summarize(BEN)
    assert again["output"]["status"] == "skipped"
    assert "up to date" in again["output"]["reason"]
    assert await world.stored(BEN) == first

    await world.add_mail(
        [Mail(n=7, sender=BEN, to=USER, subject="Contract signed?", body="Did you sign it?",
              days_ago=1)]
    )  # fmt: skip
    world.clock.advance(60)
    after = await world.summarize(BEN)
    assert after["output"]["status"] == "ok"
    stored = await world.stored(BEN)
    assert stored is not None and stored["created_on"] > first["created_on"]
    assert await world.message_id(7) in stored["summary"]["citations"]


async def test_offline__an_unknown_contact_is_skipped_with_a_reason(world: World) -> None:
    # a contact id the user does not have completes with a reason instead of failing
    await world.add_mail(ben_history())
    await world.start()
    await summarize_relationship.enqueue_many(world.queue, world.user_id, [10_000_000])
    job_id = await world.one(
        "SELECT max(id) FROM queue.job WHERE name = %s", "summarize-relationship"
    )
    job = await world.wait_job(job_id)
    assert job["state"] == "completed"
    assert job["output"] == {
        "user_id": world.user_id,
        "contact_id": 10_000_000,
        "status": "skipped",
        "reason": "no such contact for this user",
    }
    carol = await world.summarize(CAROL)
    assert carol["output"]["status"] == "ok"


async def test_enqueue_many__one_queued_job_per_contact_grouped_by_user(world: World) -> None:
    await world.add_mail(ben_history())
    await world.start()
    await world.queue.stop(grace=1)  # nobody works the queue: look at what was sent
    ben, carol = await world.contact(BEN), await world.contact(CAROL)

    assert (
        await summarize_relationship.enqueue_many(world.queue, world.user_id, [ben, carol, ben])
        == 2
    )
    assert await summarize_relationship.enqueue_many(world.queue, world.user_id, [ben]) == 0
    assert await summarize_relationship.enqueue_many(world.queue, world.user_id, []) == 0
    rows = await world.all(
        "SELECT data, singleton_key, group_key FROM queue.job WHERE name = %s ORDER BY id",
        summarize_relationship.QUEUE,
    )
    assert rows == [
        ({"user_id": world.user_id, "contact_id": c}, f"user-{world.user_id}-contact-{c}",
         f"user-{world.user_id}")
        for c in sorted([ben, carol])
    ]  # fmt: skip


async def test_enqueue_many__inside_the_callers_transaction(world: World) -> None:
    await world.add_mail(ben_history())
    await world.start()
    await world.queue.stop(grace=1)
    ben = await world.contact(BEN)
    async with world.pool.connection() as conn:
        async with conn.transaction(force_rollback=True):
            sent = await summarize_relationship.enqueue_many(
                world.queue, world.user_id, [ben], conn=conn
            )
    assert sent == 1
    assert (
        await world.one("SELECT count(*) FROM queue.job WHERE name = %s", "summarize-relationship")
        == 0
    )
