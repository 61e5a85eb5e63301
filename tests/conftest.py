"""Test fixtures: a PostgreSQL server (DATABASE_URL or embedded), a migrated template database,
and a fresh clone of it for every test that asks for `db_url` (made ahead and dropped in the
background)."""

from __future__ import annotations

import atexit
import collections
import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from fluffymail.db import embedded
from tests import pgbouncer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` run first. pytest-xdist's worksteal gives each worker a run of the
    collection and an idle worker takes tests from the end of another's queue, never the test
    it is running: a long test collected late would keep the run going with one worker busy."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # a stable sort


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say why tests were skipped, one line per reason, whatever flags pytest was given."""
    reasons = Counter(skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    if not reasons:
        return
    terminalreporter.section("why tests were skipped", sep="-")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:>4} skipped: {reason}")


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2id at its lowest cost (8 KiB, one pass) instead of the default 64 MiB and three
    passes: the tests make and log in users by the hundred, and the cost of a hash guards against
    an attacker, not a test. The same code runs (the hashing thread, the dummy hash for unknown
    accounts, rehashing); processes the tests start hash at the default cost."""
    from argon2 import PasswordHasher

    from fluffymail.web.services import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", cheap)
        patch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a real password"))
        yield


@pytest.fixture(scope="session")
def server_url() -> str:
    """The server under test: DATABASE_URL when set, else an embedded PostgreSQL.

    The embedded server's data lives outside pytest's temporary folders, which another pytest
    run on the machine may prune while this one still runs; it is deleted when the server stops.
    """
    if url := os.environ.get("DATABASE_URL"):
        return url
    root = Path(tempfile.mkdtemp(prefix="fluffymail-tests-pg-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)  # runs after the server stops
    return embedded.start(root, database="fluffymail_tests", throwaway=True)


def with_db(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def template_db(server_url: str) -> Iterator[str]:
    """A database migrated once per session; tests clone it."""
    import asyncio

    from fluffymail.db import migrate

    name = f"fm_tpl_{uuid.uuid4().hex[:8]}"
    with admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    async def upgrade() -> None:
        async with await psycopg.AsyncConnection.connect(
            with_db(server_url, name), autocommit=True
        ) as conn:
            await migrate.upgrade(conn)

    asyncio.run(upgrade())
    yield name
    with admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Dropper:
    """Drops the tests' databases in background threads, so that a test seldom waits for it.

    DROP DATABASE waits for a checkpoint, and a checkpoint syncs every file written since the
    last one: a clone is ~670 files, and those of a database still waiting for its drop are
    synced too. A drop that has started tells the checkpointer to skip its files, and drops that
    run at the same time share one checkpoint, so every drop starts at once, at most `together`
    of them; a test that ends while `together` are running waits for one to finish. (Queued
    behind a few threads instead, drops fell behind on a loaded machine: 600 databases waited,
    each checkpoint synced ~400,000 files, and the last drops took minutes.) `close` waits for
    every drop and raises the first that failed."""

    def __init__(self, server_url: str, together: int = 8) -> None:
        self.server_url = server_url
        self.slots = threading.BoundedSemaphore(together)
        self.pool = ThreadPoolExecutor(together, thread_name_prefix="drop-database")
        self.drops: list[Future[None]] = []

    def drop(self, name: str) -> None:
        self.slots.acquire()
        self.drops.append(self.pool.submit(self._drop, name))

    def close(self) -> None:
        self.pool.shutdown()  # waits for every drop
        if failure := next((e for d in self.drops if (e := d.exception()) is not None), None):
            raise failure

    def _drop(self, name: str) -> None:
        try:
            with admin(self.server_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            self.slots.release()


@pytest.fixture(scope="session")
def dropper(server_url: str) -> Iterator[Dropper]:
    made = Dropper(server_url)
    yield made
    made.close()


def create_database(server_url: str, prefix: str, template: str | None = None) -> str:
    """Create a uniquely named database (a clone of `template`, if given); returns its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    with admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clone}')
    return name


def fresh_database(dropper: Dropper, prefix: str, template: str | None = None) -> Iterator[str]:
    """`create_database`, yielded as a URL; dropped after, in the background."""
    name = create_database(dropper.server_url, prefix, template)
    yield with_db(dropper.server_url, name)
    dropper.drop(name)


class Spares:
    """Clones of the template made ahead, `ahead` at a time, in threads: a test takes the oldest
    ready one and another is started while it runs. A clone costs ~0.1 s of the server's CPU
    and, on some servers (the embedded one), up to half a second of waiting; no test waits."""

    def __init__(self, dropper: Dropper, template: str, ahead: int = 2) -> None:
        self.dropper = dropper
        self.template = template
        self.maker = ThreadPoolExecutor(ahead, thread_name_prefix="spare-database")
        self.ready = collections.deque(self.maker.submit(self._make) for _ in range(ahead))

    def take(self) -> str:
        """A fresh clone's name (the caller hands it to the dropper when done)."""
        name = self.ready.popleft().result()
        self.ready.append(self.maker.submit(self._make))
        return name

    def close(self) -> None:
        """Drop the clones no test took; raise the first that could not be made."""
        self.maker.shutdown()  # waits for the clones still being made
        errors = [made.exception() for made in self.ready]
        for made, error in zip(self.ready, errors, strict=True):
            if error is None:
                self.dropper.drop(made.result())
        if failure := next((error for error in errors if error is not None), None):
            raise failure

    def _make(self) -> str:
        return create_database(self.dropper.server_url, "fm_t", self.template)


@pytest.fixture(scope="session")
def spares(dropper: Dropper, template_db: str) -> Iterator[Spares]:
    made = Spares(dropper, template_db)
    yield made
    made.close()


@pytest.fixture(scope="session")
def pgbouncer_url(server_url: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the server under test (see tests/pgbouncer.py)."""
    if pgbouncer.binary() is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    if not pgbouncer.over_tcp(server_url):
        pytest.skip("PgBouncer tests need a server reached over TCP (DATABASE_URL)")
    with pgbouncer.running(server_url) as url:
        yield url


@pytest.fixture
def db_url(request: pytest.FixtureRequest, dropper: Dropper, spares: Spares) -> Iterator[str]:
    """A fresh, migrated database for this test (a clone of the template, made ahead); reached
    through PgBouncer in transaction mode when FLUFFYMAIL_TEST_PGBOUNCER=1
    (tests/integration/pgbouncer runs a selection that way)."""
    name = spares.take()
    url = with_db(dropper.server_url, name)
    if pgbouncer.bounced():
        url = pgbouncer.through(request.getfixturevalue("pgbouncer_url"), url)
    yield url
    dropper.drop(name)


@pytest.fixture
def direct_db_url(server_url: str, db_url: str) -> str:
    """`db_url`'s database reached straight, never through PgBouncer (for LISTEN and locks)."""
    if not pgbouncer.bounced():
        return db_url  # already straight (and an embedded server's URL names a socket, no port)
    return pgbouncer.through(server_url, db_url)


@pytest.fixture
def empty_db_url(dropper: Dropper) -> Iterator[str]:
    """A fresh database with no schema at all."""
    yield from fresh_database(dropper, "fm_e")


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    kwargs: dict[str, object] = {"autocommit": True}
    if pgbouncer.bounced():
        kwargs["prepare_threshold"] = None  # as open_pool does behind a transaction pooler
    pool = AsyncConnectionPool(db_url, min_size=1, max_size=8, kwargs=kwargs, open=False)
    await pool.open(wait=True)
    yield pool
    await pool.close()
