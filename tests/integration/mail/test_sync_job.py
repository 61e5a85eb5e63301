"""The sync-emails job through the queue: transactional follow-ups, resumable, incremental."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.threads import plan_threads
from fluffymail.crm.secrets import SecretBox, SecretError
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.integrations.mail.source import Cursor, SourcePage
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue, JobState
from fluffymail.queue.registry import Registry
from tests.helpers import write_maildir
from tests.integration.mail.conftest import message, write_mbox


async def rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


async def wait_done(queue: JobQueue, job_id: int, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        done = (JobState.COMPLETED, JobState.FAILED)
        while (job := await queue.get_job(job_id)) is None or job.state not in done:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_sync_job__a_run_stores_mail_waits_for_its_extraction_analyses_once_then_indexes(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    """A sync job is a workflow run: read → the batches' extraction jobs (sent into the run's
    group in their batch's transaction) → a join that holds no slot → one analysis → the
    search rows of its mail (jobs in its `index` group), after its people and scores."""
    shared = message(1)
    root = write_maildir(
        tmp_path / "mail", {"inbox": [shared, message(2)], "archive": [shared, message(3)]}
    )
    connection = await file_connection(root)
    job_id = await sync_emails.enqueue(
        queue, sync_emails.Args(connection_id=connection.id, user_id=connection.user_id)
    )
    assert job_id is not None
    await queue.work(sync_emails.QUEUE, registry[sync_emails.QUEUE].handler)
    await _until_waiting_on_extraction(pool, job_id)
    ids = {r[0] for r in await rows(pool, "SELECT id FROM crm.messages")}
    assert len(ids) == 3
    jobs = await rows(
        pool,
        "SELECT jsonb_array_elements_text(data->'message_ids')::bigint, data->'parent'"
        " FROM queue.job WHERE name = 'extract-contacts'",
    )
    assert sorted(r[0] for r in jobs) == sorted(ids)
    assert {tuple(r[1]) for r in jobs} == {(job_id, "extract")}  # each in the run's group
    keys = await rows(
        pool, "SELECT DISTINCT group_key FROM queue.job WHERE name = 'extract-contacts'"
    )
    assert keys == [(f"user-{connection.user_id}",)]  # fairness: one key per user
    folders = await rows(
        pool,
        "SELECT array_agg(f.name ORDER BY f.name) FROM crm.message_folders mf"
        " JOIN crm.folders f ON f.id = mf.folder_id JOIN crm.messages m ON m.id = mf.message_id"
        " WHERE m.message_id = 'm1@example.com'",
    )
    assert folders == [(["archive", "inbox"],)]

    await queue.work("extract-contacts", registry["extract-contacts"].handler)
    await _until_waiting_on(pool, job_id, "index")
    assert await rows(pool, "SELECT count(*) FROM crm.message_search") == [(0,)]
    [(analysed,)] = await rows(
        pool, "SELECT count(*) FROM crm.relationships WHERE user_id = %s", connection.user_id
    )
    assert analysed >= 1  # scored before the search rows are written
    await queue.work("index-messages", registry["index-messages"].handler)
    await wait_done(queue, job_id)

    job = await queue.get_job(job_id)
    assert job is not None and job.state == JobState.COMPLETED, job
    assert job.output["seen"] == 4 and job.output["stored"] == 3
    assert job.output["extracted"] == {"children": 1, "completed": 1}
    assert job.output["analysed"]["contacts"] >= 1
    assert job.output["indexed"] == {"children": 1, "completed": 1}
    indexed = await rows(pool, "SELECT message_id FROM crm.message_search ORDER BY 1")
    assert {r[0] for r in indexed} == ids
    [(status, processed)] = await rows(
        pool,
        "SELECT c.status, (SELECT count(*) FROM crm.messages m WHERE NOT EXISTS"
        " (SELECT 1 FROM crm.message_pending p WHERE p.message_id = m.id))"
        " FROM crm.connections c",
    )
    assert (status, processed) == ("ok", 3)
    steps = await rows(
        pool,
        "SELECT name, state FROM queue.workflow_step WHERE run_id = %s ORDER BY seq",
        job_id,
    )
    assert steps == [
        ("extract", "completed"),
        ("mark", "completed"),
        ("sync", "completed"),
        ("analyze", "completed"),
        ("index", "completed"),
        ("send-index", "completed"),
    ]


async def _until_waiting_on_extraction(pool: AsyncConnectionPool, run_id: int) -> None:
    await _until_waiting_on(pool, run_id, "extract")


async def _until_waiting_on(pool: AsyncConnectionPool, run_id: int, group: str) -> None:
    async with asyncio.timeout(20):
        while not await rows(  # noqa: ASYNC110
            pool,
            "SELECT 1 FROM queue.workflow_step s JOIN queue.job j ON j.id = s.run_id"
            " WHERE s.run_id = %s AND s.name = %s AND s.state = 'waiting'"
            " AND j.state = 'retry'",
            run_id,
            group,
        ):
            await asyncio.sleep(0.05)


async def test_placeholder_jobs__mark_message_processed_and_user_analyzed(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    connection = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), message(2)]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    for name in ("extract-contacts", "analyze-relationships"):
        await queue.work(name, registry[name].handler, concurrency=2)
    async with asyncio.timeout(20):
        while await rows(  # noqa: ASYNC110 (polling the DB)
            pool,
            "SELECT 1 FROM crm.message_pending UNION ALL"
            " SELECT 1 FROM crm.users WHERE relationships_analyzed_on IS NULL",
        ):
            await asyncio.sleep(0.05)


async def test_sync__follow_up_jobs_commit_with_the_page_or_not_at_all(
    pool: AsyncConnectionPool, queue: JobQueue, file_connection, tmp_path: Path
) -> None:
    # no registry: the extract-contacts queue does not exist, so enqueueing fails mid-transaction
    connection = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), message(2)]))
    with pytest.raises(Exception, match="extract-contacts"):
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
        )
    assert await rows(pool, "SELECT count(*) FROM crm.messages") == [(0,)]
    [(status, error, parts)] = await rows(
        pool,
        "SELECT status, last_error, (SELECT count(*) FROM crm.sync_cursors) FROM crm.connections",
    )
    assert status == "failed" and "extract-contacts" in error and parts == 0


class CrashingSource:
    """FileSource that dies after `pages` pages, as a killed worker would."""

    def __init__(self, inner: FileSource, pages: int) -> None:
        self.inner, self.limit = inner, pages

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        count = 0
        async for page in self.inner.pages(cursor):
            if count == self.limit:
                raise ConnectionError("worker died")
            count += 1
            yield page


async def test_sync__a_source_failure_stores_what_was_read_then_fails(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    mbox = write_mbox(tmp_path / "a.mbox", [message(i) for i in range(10)])
    connection = await file_connection(mbox)
    crashing = CrashingSource(FileSource(mbox, page_size=2), pages=3)
    with pytest.raises(ConnectionError):
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(),
            source=crashing, batch_size=2,
        )  # fmt: skip
    [(stored,)] = await rows(pool, "SELECT count(*) FROM crm.messages")
    assert stored == 6  # the three pages read before the failure, each with its cursor

    result = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(), batch_size=2
    )
    assert result.seen == 10 - stored and result.stored == 10 - stored
    assert await rows(pool, "SELECT count(*) FROM crm.messages") == [(10,)]
    assert await rows(
        pool,
        "SELECT sum(jsonb_array_length(data->'message_ids'))::int FROM queue.job"
        " WHERE name = 'extract-contacts'",
    ) == [(10,)]


async def test_sync__appended_mail_is_the_only_mail_read_next_time(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    mbox = write_mbox(tmp_path / "a.mbox", [message(1), message(2)])
    maildir = write_maildir(tmp_path / "md", {"inbox": [message(3)]})
    for path, add in ((mbox, lambda: write_mbox(mbox, [message(4)])),
                      (maildir, lambda: (maildir / "cur" / "2000.M9P0.test:2,S").write_bytes(message(5)))):  # fmt: skip
        connection = await file_connection(path)
        await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
        )
        add()
        again = await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
        )
        assert (again.seen, again.stored) == (1, 1)


async def test_threads__a_reply_naming_its_root_joins_the_roots_thread(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    root = message(1, subject="plans")
    reply = message(
        2,
        subject="Re: plans",
        extra="In-Reply-To: <m1@example.com>\nReferences: <m1@example.com>\n",
    )
    later = message(3, subject="Re: plans", extra="References: <m1@example.com> <m2@example.com>\n")
    mbox = write_mbox(tmp_path / "a.mbox", [reply])
    connection = await file_connection(mbox)
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    write_mbox(mbox, [root, later])  # the root arrives after its reply
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    assert await rows(pool, "SELECT count(DISTINCT thread_id) FROM crm.messages") == [(1,)]
    assert await rows(pool, "SELECT message_count, subject FROM crm.threads") == [(3, "Re: plans")]


async def test_threads__a_thread_made_concurrently_after_the_lookup_counts_the_batch_too(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    file_connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new thread is inserted with its messages counted (issue 21); when its key turns out
    to be stored already, the stored thread gains the batch's count and dates instead."""
    del registry
    root = message(5, subject="plans")  # 10:05
    first = await file_connection(write_mbox(tmp_path / "a.mbox", [root]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=first.id, clock=SystemClock()
    )
    monkeypatch.setattr(  # the lookup misses the stored keys, as if made after it
        mail_repo, "plan_threads", lambda keys, subjects, _stored: plan_threads(keys, subjects, {})
    )
    again = message(2, subject="plans")  # 10:02, the same subject thread key
    second = await file_connection(write_mbox(tmp_path / "b.mbox", [again]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=second.id, clock=SystemClock()
    )
    assert await rows(pool, "SELECT count(DISTINCT thread_id) FROM crm.messages") == [(1,)]
    counted = "SELECT message_count, first_date = min_date, last_date = max_date FROM crm.threads"
    dates = "(SELECT min(date) AS min_date, max(date) AS max_date FROM crm.messages) d"
    assert await rows(pool, f"{counted}, {dates}") == [(2, True, True)]


def test_plan_threads__groups_by_shared_keys_and_joins_stored_threads() -> None:
    plan = plan_threads(
        [("subj:a", "ref:1"), ("ref:1", "ref:2"), ("subj:b",), ("subj:c",)],
        ["a", "re: a", "b", "c"],
        {"subj:c": 7},
    )
    assert plan.new == {0: "subj:a", 1: "subj:a", 2: "subj:b"}
    assert plan.existing == {3: 7}
    assert set(plan.aliases) == {"subj:a", "ref:1", "ref:2", "subj:b"}


def test_secret_box__round_trips_and_hides_the_key() -> None:
    from cryptography.fernet import Fernet

    box = SecretBox(Fernet.generate_key())
    token = box.encrypt_json({"password": "hunter2"})
    assert b"hunter2" not in token and "hunter2" not in repr(box)
    assert box.decrypt_json(token) == {"password": "hunter2"}
    with pytest.raises(SecretError):
        SecretBox(Fernet.generate_key()).decrypt(token)


@pytest.mark.parametrize("parse_in", ["thread", "process"])
async def test_sync__parsing_ahead_still_commits_batches_in_order(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    file_connection,
    tmp_path: Path,
    parse_in: str,
) -> None:
    del registry
    mbox = write_mbox(tmp_path / "a.mbox", [message(i) for i in range(11)])
    connection = await file_connection(mbox)
    progress: list[int] = []
    with contextlib.ExitStack() as stack:
        parser = stack.enter_context(ProcessPoolExecutor(1)) if parse_in == "process" else None
        result = await sync_emails.sync_connection(
            pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(),
            source=FileSource(mbox, page_size=2), batch_size=2, parser=parser,
            on_progress=lambda update: progress.append(update.seen),
        )  # fmt: skip
    # the 7th batch is the full read's closing page: every id still in the file (none deleted)
    assert (result.seen, result.stored, result.batches, result.deleted) == (11, 11, 7, 0)
    assert progress == [2, 4, 6, 8, 10, 11, 11]
    ids = [r[0] for r in await rows(pool, "SELECT id FROM crm.messages ORDER BY id")]
    subjects = await rows(pool, "SELECT subject FROM crm.messages ORDER BY id")
    assert subjects == [(f"hello {i}",) for i in range(11)] and len(set(ids)) == 11


async def test_store__a_message_stored_concurrently_after_the_lookup_is_not_stored_twice(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    registry: Registry,
    file_connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """COPY cannot skip a conflicting row: the batch is looked up again and rewritten."""
    del registry
    first = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), message(2)]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=first.id, clock=SystemClock()
    )
    lookups: list[int] = []
    existing_ids = mail_repo._existing_ids

    async def stale_once(conn, user_id: int, keys: list[str]) -> dict[str, int]:
        lookups.append(len(keys))
        found = await existing_ids(conn, user_id, keys)
        return {} if len(lookups) == 1 else found  # the first look misses message 1 and 2

    monkeypatch.setattr(mail_repo, "_existing_ids", stale_once)
    second = await file_connection(
        write_mbox(tmp_path / "b.mbox", [message(1), message(2), message(3)])
    )
    result = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=second.id, clock=SystemClock()
    )

    assert lookups == [3, 3] and (result.seen, result.stored) == (3, 1)
    assert await rows(pool, "SELECT count(*) FROM crm.messages") == [(3,)]
    assert await rows(pool, "SELECT count(*) FROM crm.message_participants") == [(6,)]
    assert await rows(pool, "SELECT count(*) FROM crm.message_folders") == [(5,)]


async def test_participants__go_with_their_message_and_their_user(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    connection = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), message(2)]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    assert await rows(pool, "SELECT count(*) FROM crm.message_participants") == [(4,)]

    await rows(pool, "DELETE FROM crm.messages WHERE subject = 'hello 1' RETURNING id")
    assert await rows(
        pool,
        "SELECT m.subject, p.role, p.address FROM crm.message_participants p"
        " JOIN crm.messages m ON m.id = p.message_id ORDER BY p.role",
    ) == [("hello 2", "from", "alice@example.com"), ("hello 2", "to", "bob@example.com")]
    await rows(pool, "DELETE FROM crm.users RETURNING id")
    assert await rows(pool, "SELECT count(*) FROM crm.message_participants") == [(0,)]


class StallingSource:
    """FileSource that hangs after `pages` pages, as a sync does when a user presses Ctrl-C."""

    def __init__(self, inner: FileSource, pages: int) -> None:
        self.inner, self.limit = inner, pages

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        count = 0
        async for page in self.inner.pages(cursor):
            if count == self.limit:
                await asyncio.Event().wait()
            count += 1
            yield page


async def test_sync__an_interrupted_sync_keeps_what_committed_and_says_so(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    del registry
    mbox = write_mbox(tmp_path / "a.mbox", [message(i) for i in range(6)])
    connection = await file_connection(mbox)
    committed = asyncio.Event()
    stalling = StallingSource(FileSource(mbox, page_size=2), pages=2)
    running = sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(),
        source=stalling, batch_size=2, on_progress=lambda _: committed.set(),
    )  # fmt: skip
    sync = asyncio.create_task(running)
    await asyncio.wait_for(committed.wait(), 10)
    sync.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sync

    [(status, error, stored)] = await rows(
        pool, "SELECT status, last_error, (SELECT count(*) FROM crm.messages) FROM crm.connections"
    )
    assert status == "failed" and error == sync_emails.INTERRUPTED and stored in (2, 4)
    again = await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock(), batch_size=2
    )
    assert again.stored == 6 - stored
    assert await rows(pool, "SELECT status, count(*) OVER () FROM crm.connections") == [("ok", 1)]


async def test_sync_job__reports_takeout_mail_skipped_by_label(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    mbox = write_mbox(
        tmp_path / "takeout.mbox",
        [message(1, extra="X-Gmail-Labels: Inbox\n"), message(2, extra="X-Gmail-Labels: Spam\n")],
    )
    connection = await file_connection(mbox)
    job_id = await sync_emails.enqueue(
        queue, sync_emails.Args(connection_id=connection.id, user_id=connection.user_id)
    )
    assert job_id is not None
    await queue.work(sync_emails.QUEUE, registry[sync_emails.QUEUE].handler)
    await queue.work("extract-contacts", registry["extract-contacts"].handler)
    await queue.work("index-messages", registry["index-messages"].handler)

    await wait_done(queue, job_id)

    job = await queue.get_job(job_id)
    assert job is not None and job.state == JobState.COMPLETED, job
    assert (job.output["seen"], job.output["stored"]) == (1, 1)
    assert job.output["skipped_by_label"] == {"spam": 1}


async def test_mail_dated_in_the_future__stored_undated_with_the_claim_kept(
    pool: AsyncConnectionPool, registry: Registry, queue: JobQueue, file_connection, tmp_path: Path
) -> None:
    """Issue 19: four messages dated 2044 must not be a contact's or a company's latest mail."""
    future = message(2).replace(b"Mon, 1 Jan 2001 10:02:00", b"Fri, 1 Jan 2044 10:02:00")
    connection = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), future]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    stored = await rows(pool, "SELECT subject, date IS NULL, problems FROM crm.messages ORDER BY 1")
    assert stored == [
        ("hello 1", False, []),
        ("hello 2", True, ["date-in-future:2044-01-01T10:02:00+00:00"]),
    ]


async def test_synced_mail_is_searchable_once_extracted(
    pool: AsyncConnectionPool, queue: JobQueue, registry: Registry, file_connection, tmp_path: Path
) -> None:
    """A sync's store leaves the search rows to extract-contacts (0038: the store runs at the
    rate it reads); the extraction job writes them for its batch."""
    connection = await file_connection(write_mbox(tmp_path / "a.mbox", [message(1), message(2)]))
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=SystemClock()
    )
    assert await rows(pool, "SELECT count(*) FROM crm.message_search") == [(0,)]
    await queue.work("extract-contacts", registry["extract-contacts"].handler)
    async with asyncio.timeout(20):
        while await rows(pool, "SELECT 1 FROM crm.message_pending"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    indexed = await rows(
        pool,
        "SELECT count(*) FROM crm.message_search s JOIN crm.messages m"
        " ON m.id = s.message_id AND m.user_id = s.user_id",
    )
    assert indexed == [(2,)]
