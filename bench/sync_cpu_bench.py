"""CPU seconds per message of each stage of an IMAP sync: parse, prepare, store, PostgreSQL.

Usage: .venv/bin/python bench/sync_cpu_bench.py [--rounds 3] [--limit N] [--dsn URL] [--out F]
       [--statements]
The messages are the IMAP bench's (`dovecot.FOLDERS`: ~17k real messages), with CRLF line
ends as Dovecot serves them. Each stage is timed in process CPU (`time.process_time`), not
wall clock, so the figures hold on a loaded machine (send_back: pickling the prepared rows
and back, as they cross from the parser process); the best of --rounds counts, with the
parser's caches emptied before each round (a sync parses each message once). The store
writes every message in batches of the sync's size into a fresh migrated database, one
transaction each, search rows deferred as a sync's are (0038), and also reads its PostgreSQL
backend's CPU from /proc (the server must be local); with --statements, that CPU per statement
of the store too (by SQL file name, or the COPY's table; triggers count with their statement;
the client's CPU then includes reading /proc twice a statement). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

import dovecot
import import_command
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind, IncomingMessage
from fluffymail.crm.mail.prepare import PreparedMessage, prepare
from fluffymail.crm.messages import addresses
from fluffymail.crm.messages.parse import parse_message
from fluffymail.integrations.mail.files import iter_source
from fluffymail.jobs.parser_pool import batch_gc
from fluffymail.jobs.sync_emails import BATCH_SIZE

Mail = tuple[str, str, bytes]


def load(limit: int | None) -> list[Mail]:
    """(folder, source id, raw with CRLF line ends) of the IMAP bench's messages."""
    mails: list[Mail] = []
    base = dovecot.corpus.root()
    for folder, parts in dovecot.FOLDERS.items():
        for part in parts:
            for mail in iter_source(base / part):
                raw = mail.raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                mails.append((folder, str(len(mails) + 1), raw))
                if limit is not None and len(mails) >= limit:
                    return mails
    return mails


def _clear_caches() -> None:
    for cached in (addresses._parse_cached, addresses.parse_groups, addresses.make_address):
        cached.cache_clear()


def best_cpu(func: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """The least process CPU of `rounds` calls (caches emptied first), and the last result."""
    best, result = float("inf"), None
    for _ in range(rounds):
        _clear_caches()
        started = time.process_time()
        result = func()
        best = min(best, time.process_time() - started)
    return best, result


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_NAMES = {text: name for name, text in mail_repo.SQL.items()}


def _timed_cursor(costs: Counter[str]) -> type[psycopg.AsyncCursor[Any]]:
    """A cursor class adding its backend's CPU per statement to `costs` (seconds)."""

    class Timed(psycopg.AsyncCursor[Any]):
        async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            named = _NAMES.get(query) if isinstance(query, str) else None
            with self._timing(named or " ".join(str(query).split())[:40]):
                return await super().execute(query, params, **kwargs)

        @contextlib.asynccontextmanager
        async def copy(self, statement: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            with self._timing(" ".join(str(statement).split()[:2])):
                async with super().copy(statement, *args, **kwargs) as copy:
                    yield copy

        @contextlib.contextmanager
        def _timing(self, label: str) -> Any:
            pid = self.connection.info.backend_pid
            before = _backend_cpu(pid)
            yield
            costs[label] += _backend_cpu(pid) - before

    return Timed


async def store_all(
    url: str, prepared: list[PreparedMessage], statements: Counter[str] | None = None
) -> dict[str, float]:
    """Store `prepared` as a sync does; client CPU and the backend's CPU, in seconds (per
    statement into `statements` when given)."""
    options = {} if statements is None else {"cursor_factory": _timed_cursor(statements)}
    async with await psycopg.AsyncConnection.connect(url, **options) as conn:
        user, _ = await mail_repo.get_or_create_user(conn, "bench@example.com")
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=ConnectionKind.IMAP, source="bench@localhost"
        )
        await conn.commit()
        backend = conn.info.backend_pid
        if statements is not None:
            statements.clear()  # the set-up's
        server_before, started = _backend_cpu(backend), time.process_time()
        for i in range(0, len(prepared), BATCH_SIZE):
            async with conn.transaction():
                await mail_repo.defer_search(conn)  # as the sync's store does (0038)
                await mail_repo.store_messages(
                    conn,
                    user_id=user.id,
                    connection_id=connection.id,
                    messages=prepared[i : i + BATCH_SIZE],
                    now=datetime.now(UTC),
                )
        client = time.process_time() - started
        return {"client": client, "postgres": _backend_cpu(backend) - server_before}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--rounds", type=int, default=3)
    cli.add_argument("--limit", type=int, default=None)
    cli.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    cli.add_argument("--no-store", action="store_true", help="time parse and prepare only")
    cli.add_argument(
        "--statements", action="store_true", help="also the store's PostgreSQL CPU per statement"
    )
    cli.add_argument("--out", type=Path, default=None)
    args = cli.parse_args()
    mails = load(args.limit)
    batch_gc()  # as the parser process and a syncing worker do
    parse_s, parsed = best_cpu(lambda: [parse_message(raw) for _, _, raw in mails], args.rounds)
    incoming = [
        IncomingMessage(folder=folder, source_id=source_id, parsed=p)
        for (folder, source_id, _), p in zip(mails, parsed, strict=True)
    ]
    prepare_s, prepared = best_cpu(lambda: [prepare(m) for m in incoming], args.rounds)
    stages: dict[str, float] = {"parse": parse_s, "prepare": prepare_s}
    # what crosses back from the parser process, per batch: pickled there, unpickled here
    batches = [prepared[i : i + BATCH_SIZE] for i in range(0, len(prepared), BATCH_SIZE)]
    stages["send_back"], _ = best_cpu(
        lambda: [pickle.loads(pickle.dumps(b, pickle.HIGHEST_PROTOCOL)) for b in batches],
        args.rounds,
    )
    statements: Counter[str] | None = Counter() if args.statements else None
    if not args.no_store:
        with tempfile.TemporaryDirectory() as data:
            with import_command.fresh_database(args.dsn, Path(data)) as (url, _):
                store = asyncio.run(store_all(url, prepared, statements))
        stages |= {"store_client": store["client"], "store_postgres": store["postgres"]}
    n = len(mails)
    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "messages": n,
        "stored": len({m.dedup_key for m in prepared}),
        "cpu_seconds": {k: round(v, 3) for k, v in stages.items()},
        "cpu_us_per_message": {k: round(v / n * 1e6, 1) for k, v in stages.items()},
        "total_us_per_message": round(sum(stages.values()) / n * 1e6, 1),
    }
    if statements:
        report["store_postgres_statements"] = {k: round(v, 3) for k, v in statements.most_common()}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
