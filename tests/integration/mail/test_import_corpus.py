"""The development corpus imported end to end: Enron (counts, dedup, folders) and malformed mail."""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.messages import parse_message
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.files import iter_source
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue
from fluffymail.queue.registry import Registry
from tests.corpus import CORPUS, skip_without

ENRON = CORPUS / "enron"
MALFORMED = CORPUS / "malformed"
NOT_RFC5322 = {
    "mail-parser/mail_outlook_1",
    "python-test_email/msg_19.txt",
}  # .msg binary, no headers


async def rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


@pytest.mark.slow
@skip_without(ENRON)
async def test_enron__imported_once_per_distinct_message_and_again_adds_nothing(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection
) -> None:
    del registry
    # expected, independently of FileSource: the stdlib-framed reader + the parser's fingerprint
    folders_by_key: dict[str, set[str]] = collections.defaultdict(set)
    total = 0
    for mail in iter_source(ENRON):
        total += 1
        key = f"fp:{parse_message(mail.raw).fingerprint}"
        folders_by_key[key].add(
            str(Path(mail.path).relative_to(ENRON).with_suffix("")) + mail.folder
        )
    connection = await file_connection(ENRON)

    first = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )

    assert (
        (first.seen, first.stored) == (total, len(folders_by_key)) == (14_634, len(folders_by_key))
    )
    [(stored, links)] = await rows(
        pool,
        "SELECT (SELECT count(*) FROM crm.messages), (SELECT count(*) FROM crm.message_folders)",
    )
    assert (stored, links) == (len(folders_by_key), total)
    [(jobs,)] = await rows(  # extraction is batched: every new message id in exactly one job
        pool,
        "SELECT sum(jsonb_array_length(data->'message_ids')) FROM queue.job"
        " WHERE name = 'extract-contacts'",
    )
    assert jobs == stored
    [(analyses,)] = await rows(
        pool, "SELECT count(*) FROM queue.job WHERE name = 'analyze-relationships'"
    )
    assert analyses == 1

    # the same message in two folders: stored once, both folders recorded
    key = next(k for k, f in folders_by_key.items() if len(f) >= 2)
    [(message_count, folder_count)] = await rows(
        pool,
        "SELECT count(DISTINCT m.id), count(DISTINCT mf.folder_id) FROM crm.messages m"
        " JOIN crm.message_folders mf ON mf.message_id = m.id WHERE m.dedup_key = %s",
        key,
    )
    assert (message_count, folder_count) == (1, len(folders_by_key[key]))
    [(multi,)] = await rows(
        pool,
        "SELECT count(*) FROM (SELECT message_id FROM crm.message_folders mf"
        " JOIN crm.folders f ON f.id = mf.folder_id GROUP BY message_id"
        " HAVING count(DISTINCT f.name) >= 2) x",
    )
    assert multi == sum(1 for f in folders_by_key.values() if len(f) >= 2)

    again = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    assert (again.seen, again.stored) == (0, 0)  # the cursor: nothing new to read
    full = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(), full=True
    )
    assert (full.seen, full.stored) == (total, 0)  # dedup: re-reading everything adds nothing
    assert await rows(pool, "SELECT count(*) FROM crm.messages") == [(stored,)]
    assert await rows(pool, "SELECT count(*) FROM crm.message_folders") == [(total,)]
    [(status, seen, new, remaining)] = await rows(
        pool, "SELECT status, seen_count, stored_count, remaining_estimate FROM crm.connections"
    )
    assert (status, seen, new, remaining) == ("ok", total, 0, 0)


@skip_without(MALFORMED)
async def test_malformed__every_message_stored_with_its_problems(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection
) -> None:
    del registry
    lines = (MALFORMED / "INDEX.tsv").read_text().splitlines()
    index = [row["file"] for row in csv.DictReader(lines, delimiter="\t")]
    connection = await file_connection(MALFORMED)
    source = FileSource(MALFORMED)

    result = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(), source=source
    )

    skipped = {str(Path(p).relative_to(MALFORMED)) for p in source.skipped}
    assert NOT_RFC5322 <= skipped  # reported (logged, listed by the CLI), not silently dropped
    assert all(p in NOT_RFC5322 or "LICENSE" in p or "NOTICE" in p for p in skipped)
    assert result.seen == len(index) - len(NOT_RFC5322)
    stored = {
        (folder, source_id): set(problems)
        for folder, source_id, problems in await rows(
            pool,
            "SELECT f.name, mf.source_id, m.problems FROM crm.message_folders mf"
            " JOIN crm.folders f ON f.id = mf.folder_id JOIN crm.messages m ON m.id = mf.message_id",
        )
    }
    for name in index:
        if name in NOT_RFC5322:
            continue
        path = MALFORMED / name
        found = stored.get((str(Path(name).parent), path.name))
        assert found is not None, f"{name} not stored"
        raw = path.read_bytes()
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]
        expected = set(parse_message(raw).problems)
        assert expected <= found, f"{name}: problems {expected - found} not recorded"
    assert sum(1 for problems in stored.values() if problems) > len(stored) // 2
