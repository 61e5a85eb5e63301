"""Offline summaries over a real Enron mailbox (allen-p): the top correspondents each get a
summary citing only their own mail with the owner, within a bounded time per contact."""

from __future__ import annotations

import time

from fluffymail.crm.relationships.summaries import EXTRACTIVE
from tests.corpus import CORPUS, skip_without
from tests.integration.llm import summary_world
from tests.integration.llm.summary_world import World

ALLEN = CORPUS / "enron" / "mbox" / "allen-p"
OWNER = "phillip.allen@enron.com"
pytestmark = skip_without(ALLEN)
world = summary_world.world  # fixture


async def test_enron__top_correspondents_get_offline_summaries_of_their_own_mail(
    world: World,
) -> None:
    await world.import_path(ALLEN, user=OWNER)
    top = await world.all(
        "SELECT id, primary_address FROM crm.contacts WHERE user_id = %s AND created"
        " AND suppressed_reason IS NULL AND merged_into_id IS NULL"
        " ORDER BY sent_to_count + received_from_count DESC, id LIMIT 5",
        world.user_id,
    )
    assert len(top) == 5

    timings = []
    for contact_id, address in top:
        started = time.perf_counter()
        job = await world.summarize(address)
        timings.append(time.perf_counter() - started)
        assert job["state"] == "completed" and job["output"]["status"] == "ok", job
        stored = await world.stored(address)
        assert stored is not None and stored["generated_by"] == EXTRACTIVE
        citations = stored["summary"]["citations"]
        assert citations
        theirs = await world.all(
            "SELECT l.message_id FROM crm.contact_links l JOIN crm.contact_addresses a"
            " ON a.user_id = l.user_id AND a.address = l.address"
            " WHERE a.contact_id = %s AND l.message_id = ANY(%s)",
            contact_id,
            citations,
        )
        assert {r[0] for r in theirs} == set(citations), f"{address} cites others' mail"
    print(f"offline summaries of allen-p's top 5: {[round(t, 3) for t in timings]} s per job")
