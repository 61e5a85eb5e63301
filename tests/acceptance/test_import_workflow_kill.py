"""A 10k-message import is one workflow run; a worker SIGKILLed in its middle loses nothing,
and the next worker re-does no finished step (issue 17)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 10_000
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
]  # its own waits allow 240 s on a loaded machine


def write_mailbox(path: Path, n: int) -> Path:
    """`n` generated messages between the owner and 150 people (no corpus mail)."""
    lines = []
    for i in range(n):
        who = f"person{i % 150}@firm{i % 40}.example"
        sender, to = ("owner@example.com", who) if i % 4 == 0 else (who, "owner@example.com")
        lines.append(
            f"From {sender} Mon Jan  1 00:00:00 2024\n"
            f"From: Person {i % 150} <{sender}>\nTo: {to}\n"
            f"Subject: Plan {i // 7}\nMessage-ID: <m{i}@example.com>\n"
            f"Date: Mon, {i % 28 + 1:02d} Jan 2024 {i % 24:02d}:{i % 60:02d}:00 +0000\n\n"
            f"Note {i} about the plan.\n\n"
        )
    path.write_text("".join(lines))
    return path


def worker(db_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "FLUFFYMAIL_POLL_INTERVAL": "0.2",
        "FLUFFYMAIL_RESCUE_INTERVAL": "0.5",
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
        "FLUFFYMAIL_SUMMARY_TOP": "0",
    }
    command = [sys.executable, "-m", "fluffymail", "worker", "--queues",
               "sync-emails:2,extract-contacts:2,analyze-relationships:1,index-messages:1"]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=REPO)


def one(db_url: str, query: str, *params: object) -> object:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def wait(db_url: str, query: str, *params: object, timeout: float = 120) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := one(db_url, query, *params):
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {query}")


async def start_import(db_url: str, mbox: Path) -> int:
    async with AsyncConnectionPool(db_url, kwargs={"autocommit": True}, open=False) as pool:
        async with pool.connection() as conn, conn.transaction():
            user, _ = await mail_repo.get_or_create_user(conn, "owner@example.com", "Owner")
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=ConnectionKind.MBOX, source=str(mbox),
                display_name="big.mbox",
            )  # fmt: skip
        queue = JobQueue(pool, listen=False)
        args = sync_emails.Args(connection_id=connection.id, user_id=user.id)
        run_id = await sync_emails.enqueue(queue, args, asked=True)
    assert run_id is not None
    return run_id


def test_a_worker_killed_mid_import_loses_nothing_and_reruns_no_finished_step(
    db_url: str, tmp_path: Path
) -> None:
    mbox = write_mailbox(tmp_path / "big.mbox", MESSAGES)
    first = worker(db_url)
    try:
        wait(db_url, "SELECT 1 FROM queue.queue WHERE name = 'extract-contacts'")
        run_id = asyncio.run(start_import(db_url, mbox))
        # the kill lands once some extraction batches finished and others have not
        wait(db_url, "SELECT count(*) >= 3 FROM queue.job WHERE name = 'extract-contacts'"
                     " AND state = 'completed'")  # fmt: skip
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    finished = "SELECT id FROM queue.job WHERE name = 'extract-contacts' AND state = 'completed'"
    done_before = {row[0] for row in _rows(db_url, finished)}
    sync_done_before = one(
        db_url, "SELECT state = 'completed' FROM queue.workflow_step"
        " WHERE run_id = %s AND name = 'sync'", run_id,
    )  # fmt: skip
    assert 3 <= len(done_before) < MESSAGES // 500, "the kill must land mid-import"

    second = worker(db_url)
    try:
        wait(db_url, "SELECT state = 'completed' FROM queue.job WHERE id = %s", run_id, timeout=240)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)

    assert one(db_url, "SELECT count(*) FROM crm.messages") == MESSAGES  # nothing lost
    assert one(db_url, "SELECT count(*) FROM crm.message_pending") == 0
    children = _rows(db_url, "SELECT id, state, attempt FROM queue.job"
                             " WHERE name = 'extract-contacts' ORDER BY id")  # fmt: skip
    assert len(children) == MESSAGES // 500 and {c[1] for c in children} == {"completed"}
    # a batch finished before the kill ran once; its messages went to no second batch
    assert all(attempt == 1 for id_, _, attempt in children if id_ in done_before)
    steps = dict(_rows(db_url, "SELECT name, attempts FROM queue.workflow_step"
                               " WHERE run_id = %s AND kind = 'run'", run_id))  # fmt: skip
    if sync_done_before:
        assert steps["sync"] == 1  # the read finished before the kill: not read again
    assert steps["analyze"] == 1
    output = one(db_url, "SELECT output FROM queue.job WHERE id = %s", run_id)
    assert output["extracted"] == {"children": MESSAGES // 500, "completed": MESSAGES // 500}
    assert one(db_url, "SELECT count(*) FROM crm.message_search") == MESSAGES  # searchable
    assert output["analysed"]["contacts"] >= 100
    assert one(db_url, "SELECT count(*) FROM crm.relationships WHERE score > 0") >= 100


def _rows(db_url: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchall()
