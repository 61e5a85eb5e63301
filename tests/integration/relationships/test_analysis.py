"""analyze_user on crafted stored mail: ranking rules, merges, incremental = full, cursor."""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.relationships import analysis, archive

from .conftest import NOW, USER, Analyze, Load, Mail, Rows, exchange

ALICE = "alice@partner.example"
NEWS = "news@shop.example"
COLD = "pat.seller@vendor.example"
DAN = "dan@client.example"
CAROL = "carol@client.example"
ERIN = "erin@other.example"


def two_way(other: str, threads: int, *, every: float = 7.0, start: float = 10.0) -> list[Mail]:
    mails: list[Mail] = []
    for t in range(threads):
        mails += exchange(other, f"topic {other} {t}", start + t * every, replies=2)
    return mails


def newsletter(count: int) -> list[Mail]:
    return [
        Mail(
            sender=NEWS,
            to=USER,
            subject=f"Weekly deals {i}",
            days_ago=2 + i * 3,
            headers="List-Id: <deals.shop.example>\nList-Unsubscribe: <mailto:u@shop.example>",
        )
        for i in range(count)
    ]


def cold_outreach(count: int) -> list[Mail]:
    return [
        Mail(sender=COLD, to=USER, subject=f"Quick question {i}", days_ago=1 + i * 2)
        for i in range(count)
    ]


async def test_analysis__two_way_beats_newsletter_and_unanswered_mail(
    load: Load, analyze: Analyze, rows: Rows
) -> None:
    user_id = await load(two_way(ALICE, 6, every=4) + newsletter(30) + cold_outreach(30))
    result = await analyze(user_id)
    scores = await rows.scores(user_id)
    assert result.contacts == len(scores) == 2  # the newsletter is automated: no relationship
    assert NEWS not in scores
    assert scores[ALICE] >= 40 > 10 >= scores[COLD] > 0
    level, sent, received, threads, evidence = (
        await rows.all(
            "SELECT level, sent, received, two_way_threads, evidence FROM crm.relationships"
            " WHERE contact_id = %s",
            await rows.contact_id(ALICE),
        )
    )[0]
    assert (sent, received, threads) == (12, 6, 6)
    assert level in {"moderate", "strong", "very strong"}
    assert evidence[0]["text"].startswith("6 two-way threads")
    ids = {int(i) for e in evidence for i in e["message_ids"]}
    assert ids and ids <= {r[0] for r in await rows.all("SELECT id FROM crm.messages")}


async def test_analysis__cc_only_is_weaker_than_direct(
    load: Load, analyze: Analyze, rows: Rows
) -> None:
    mails: list[Mail] = []
    for t in range(5):
        day = 5 + t * 6
        mails += [
            Mail(sender=USER, to=DAN, subject=f"plan {t}", days_ago=day),
            Mail(sender=DAN, to=USER, subject=f"Re: plan {t}", days_ago=day - 0.5),
            Mail(sender=USER, to=ERIN, cc=CAROL, subject=f"memo {t}", days_ago=day),
            Mail(sender=CAROL, to=ERIN, cc=USER, subject=f"Re: memo {t}", days_ago=day - 0.5),
        ]
    user_id = await load(mails)
    await analyze(user_id)
    scores = await rows.scores(user_id)
    assert scores[DAN] > scores[CAROL] > 0
    stats = await rows.one(
        "SELECT stats FROM crm.relationships WHERE contact_id = %s", await rows.contact_id(CAROL)
    )
    assert (stats["direct"], stats["cc"]) == (0, 10)


async def test_analysis__incremental_equals_full_and_rerun_changes_nothing(
    load: Load, analyze: Analyze, rows: Rows
) -> None:
    first = two_way(ALICE, 4, start=60) + two_way(DAN, 2, start=50) + cold_outreach(5)
    user_id = await load(first)
    one = await analyze(user_id)
    assert one.full and one.contacts == 3 and len(one.new_contact_ids) == 3
    second = two_way(ALICE, 3, start=20) + two_way(ERIN, 2, start=15)
    second += [Mail(sender=DAN, to=USER, subject="Re: topic dan@client.example 0", days_ago=1)]
    await load(second)
    two = await analyze(user_id)
    assert not two.full and two.rebuilt == 0
    assert two.contacts == 3  # alice, dan, erin: the cold sender had no new mail
    assert len(two.new_contact_ids) == 1
    incremental = await rows.snapshot(user_id)
    again = await analyze(user_id)
    assert (again.interactions, again.contacts, again.cursor_from) == (0, 0, two.cursor_to)
    assert await rows.snapshot(user_id) == incremental
    full = await analyze(user_id, full=True)
    assert full.full and not full.changed_contact_ids
    assert await rows.snapshot(user_id) == incremental


async def test_analysis__cursor_waits_for_extraction(
    load: Load, analyze: Analyze, rows: Rows, pool: AsyncConnectionPool
) -> None:
    user_id = await load(two_way(ALICE, 2))
    first = await analyze(user_id)
    top = await rows.one("SELECT max(id) FROM crm.messages")
    assert (
        first.cursor_to
        == top
        == await rows.one(
            "SELECT last_message_id FROM crm.relationship_runs WHERE user_id = %s", user_id
        )
    )
    await load(two_way(DAN, 2), extract=False)
    waiting = await analyze(user_id)
    assert (waiting.cursor_to, waiting.contacts, waiting.pending) == (top, 0, 6)
    from .conftest import extract_all

    await extract_all(pool)
    caught_up = await analyze(user_id)
    assert caught_up.pending == 0 and caught_up.contacts == 1
    assert caught_up.cursor_to == await rows.one("SELECT max(id) FROM crm.messages")


async def test_analysis__merged_contacts_fold_and_unmerge_splits(
    load: Load, analyze: Analyze, rows: Rows, pool: AsyncConnectionPool
) -> None:
    other = "alice.home@mail.example"
    user_id = await load(two_way(ALICE, 3, start=40) + two_way(other, 3, start=41))
    await analyze(user_id)
    into, source = await rows.contact_id(ALICE), await rows.contact_id(other)
    async with pool.connection() as conn, conn.transaction():
        merge_id = await contacts_service.merge_contacts(
            conn, into_id=into, from_id=source, reason="user", actor=USER, now=NOW
        )
    assert merge_id is not None
    merged = await analyze(user_id)
    assert merged.rebuilt == 2 and merged.dropped == 1
    snapshot = await rows.snapshot(user_id)
    assert list(snapshot) == [into]
    assert snapshot[into][4:7] == (12, 6, 6)  # sent, received, two-way threads of both
    await analyze(user_id, full=True)
    assert await rows.snapshot(user_id) == snapshot
    async with pool.connection() as conn, conn.transaction():
        assert await contacts_service.unmerge(conn, merge_id, actor=USER, now=NOW)
    split = await analyze(user_id)
    assert split.rebuilt == 2
    after = await rows.snapshot(user_id)
    assert sorted(after) == sorted([into, source])
    assert after[into][4:7] == after[source][4:7] == (6, 3, 3)


async def test_rescore__decays_without_reading_mail(
    load: Load, analyze: Analyze, rows: Rows, pool: AsyncConnectionPool
) -> None:
    user_id = await load(two_way(ALICE, 6))
    await analyze(user_id)
    before = await rows.snapshot(user_id)
    async with pool.connection() as conn:
        # within archive.ARCHIVE_AFTER of the last mail: the mailbox is live, scores decay
        result = await analysis.rescore_user(conn, user_id, now=NOW + timedelta(days=60))
    assert result.contacts == 1
    after = await rows.snapshot(user_id)
    (contact_id,) = after
    assert after[contact_id][0] < before[contact_id][0] * 0.9
    assert after[contact_id][-1] == before[contact_id][-1]  # the state is untouched
    assert any("months ago" in e["text"] for e in after[contact_id][9])


async def test_rescore__an_archive_is_scored_as_of_its_last_mail(
    load: Load, analyze: Analyze, rows: Rows, pool: AsyncConnectionPool
) -> None:
    """Issue 19: an archive that ended long ago does not score everyone 0 (as of today)."""
    user_id = await load(two_way(ALICE, 6))
    await analyze(user_id)
    (before,) = (await rows.snapshot(user_id)).values()
    async with pool.connection() as conn:
        ends = await (await conn.execute("SELECT max(date) FROM crm.messages")).fetchone()
        for years in (1, 20):
            later = NOW + timedelta(days=365 * years)
            assert await archive.scoring_time(conn, user_id, later) == archive.ScoringTime(
                at=ends[0] + timedelta(days=1), archive_ends=ends[0]
            )
            await analysis.rescore_user(conn, user_id, now=later)
            (after,) = (await rows.snapshot(user_id)).values()
            assert after[0] >= before[0]  # as of the day after its last mail: not decayed
