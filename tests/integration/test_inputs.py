"""Bad input never reaches the driver (issue 16, item 6): each input below gets an
InvalidOptionError or UnknownQueueError, no statement runs (only the queue lookup for an
unknown queue), and no row of the queue's tables changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from fluffymail.queue import InvalidOptionError, JobQueue, Lease, UnknownQueueError
from fluffymail.queue.store import SQL
from tests.conftest import Dropper, fresh_database

Call = Callable[[JobQueue, int], Awaitable[Any]]
BIG = 2**31  # one past the integer columns
TABLES = ("queue", "job", "job_attempt", "job_group", "schedule")


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


DATA: list[tuple[str, Call, str]] = [
    ("nul in a string", lambda q, _: q.send("q", {"a": "x\x00y"}), "NUL"),
    ("nul deep in lists", lambda q, _: q.send("q", {"a": [{"b": ["ok", "\x00"]}]}), "NUL"),
    ("nul in a key", lambda q, _: q.send("q", {"k\x00": 1}), "NUL"),
    ("nul as whole data", lambda q, _: q.send("q", "\x00"), "NUL"),
    ("lone high surrogate", lambda q, _: q.send("q", {"a": "\ud800"}), "lone surrogate"),
    ("lone low surrogate", lambda q, _: q.send("q", ["x\udc00"]), "lone surrogate"),
    ("swapped pair", lambda q, _: q.send("q", ["\udc00\ud800"]), "lone surrogate"),
    ("surrogate in a key", lambda q, _: q.send("q", {"\udfff": 1}), "lone surrogate"),
    ("nan", lambda q, _: q.send("q", {"x": float("nan")}), "not JSON-serialisable"),
    ("inf", lambda q, _: q.send("q", [float("-inf")]), "not JSON-serialisable"),
    ("not json", lambda q, _: q.send("q", {"when": object()}), "not JSON-serialisable"),
    ("set", lambda q, _: q.send("q", {1, 2}), "not JSON-serialisable"),
    ("tuple key", lambda q, _: q.send("q", {(1, 2): 3}), "not JSON-serialisable"),
    ("too deep", lambda q, _: q.send("q", nested(100_000)), "not JSON-serialisable"),
    ("huge int", lambda q, _: q.send("q", 10**5000), "not JSON-serialisable"),
    ("insert: 2nd job bad", lambda q, _: q.insert("q", [{"ok": 1}, {"b": "\x00"}]), "NUL"),
    ("insert_many bad", lambda q, _: q.insert_many("q", [{"data": ["\ud83d"]}]), "surrogate"),
    ("schedule data", lambda q, _: q.schedule("q", "* * * * *", {"a": "\x00"}), "NUL"),
    ("complete output", lambda q, j: q.complete(Lease(j, 0), {"o": "\x00"}), "output contains"),
    ("fail error", lambda q, j: q.fail(Lease(j, 0), {"e": "\ud800"}), "error contains"),
]

INTEGERS: list[tuple[str, Call, str]] = [
    ("priority too big", lambda q, _: q.send("q", {}, priority=BIG), "priority must be an integer"),
    ("priority too small", lambda q, _: q.send("q", {}, priority=-BIG - 1), "priority must be"),
    ("priority bool", lambda q, _: q.send("q", {}, priority=True), "priority must be"),
    ("priority float", lambda q, _: q.send("q", {}, priority=1.5), "priority must be"),
    ("priority str", lambda q, _: q.send("q", {}, priority="1"), "priority must be"),
    ("retry_limit", lambda q, _: q.send("q", {}, retry_limit=BIG), "retry_limit must be"),
    ("retry_limit bool", lambda q, _: q.send("q", {}, retry_limit=True), "retry_limit must be"),
    ("queue retry_limit", lambda q, _: q.create_queue("q", retry_limit=BIG), "retry_limit must"),
    ("retry_delay", lambda q, _: q.send("q", {}, retry_delay=BIG), "at most 2147483647"),
    ("queue retry_delay", lambda q, _: q.create_queue("q", retry_delay=BIG), "at most"),
    ("retry_delay inf", lambda q, _: q.send("q", {}, retry_delay=float("inf")), "retry_delay"),
    ("retry_delay nan", lambda q, _: q.send("q", {}, retry_delay=float("nan")), "retry_delay"),
    ("retry_delay 10**400", lambda q, _: q.send("q", {}, retry_delay=10**400), "retry_delay"),
    ("retry_delay bool", lambda q, _: q.send("q", {}, retry_delay=True), "retry_delay"),
    ("retry_delay_max", lambda q, _: q.send("q", {}, retry_delay_max=BIG), "retry_delay_max"),
    ("queue delay_max", lambda q, _: q.create_queue("q", retry_delay_max=BIG), "retry_delay_max"),
    ("expire_in", lambda q, _: q.send("q", {}, expire_in=BIG), "expire_in must be at most"),
    ("expire_in words", lambda q, _: q.send("q", {}, expire_in="100 years"), "expire_in"),
    ("queue expire_in", lambda q, _: q.create_queue("q", expire_in=BIG), "expire_in must be"),
    ("expire_in 0", lambda q, _: q.create_queue("q", expire_in=0), "expire_in must be at least"),
    ("heartbeat", lambda q, _: q.send("q", {}, heartbeat_seconds=BIG), "heartbeat_seconds"),
    ("retention", lambda q, _: q.create_queue("q", retention=BIG), "retention must be at most"),
    ("job retention", lambda q, _: q.send("q", {}, retention=BIG), "retention must be at most"),
    ("singleton_seconds", lambda q, _: q.send("q", {}, singleton_seconds=BIG), "singleton_sec"),
    ("group_concurrency", lambda q, _: q.create_queue("g", group_concurrency=BIG), "group_conc"),
    ("group_concurrency 0", lambda q, _: q.create_queue("g", group_concurrency=0), "group_conc"),
    ("group_rate_limit", lambda q, _: q.create_queue("g", group_rate_limit=True), "group_rate"),
    ("group_rate_period", lambda q, _: q.create_queue("g", group_rate_period=BIG), "group_rate"),
    ("retry_backoff int", lambda q, _: q.send("q", {}, retry_backoff=1), "True or False"),
    ("queue retry_backoff", lambda q, _: q.create_queue("q", retry_backoff=None), "True or"),
    ("fair str", lambda q, _: q.create_queue("g", fair="yes"), "fair must be True or False"),
    ("promote priority", lambda q, _: q.promote("q", "k", BIG), "priority must be"),
    ("fetch batch 0", lambda q, _: q.fetch("q", 0), "batch_size must be"),
    ("fetch batch bool", lambda q, _: q.fetch("q", True), "batch_size must be"),
    ("fetch batch big", lambda q, _: q.fetch("q", BIG), "batch_size must be"),
    ("work concurrency", lambda q, _: q.work("q", _handler, concurrency=1.5), "concurrency"),
    ("work batch", lambda q, _: q.work("q", _handler, batch_size=0), "batch_size must be"),
    ("pause nan", lambda q, _: q.pause_queue("q", float("nan")), "pause seconds"),
    ("pause inf", lambda q, _: q.pause_queue("q", float("inf")), "pause seconds"),
    ("pause huge", lambda q, _: q.pause_queue("q", 1e12), "pause seconds"),
    ("pause bool", lambda q, _: q.pause_queue("q", True), "pause seconds"),
    ("redrive limit", lambda q, _: q.redrive("q", limit=-1), "limit must be"),
    ("redrive limit str", lambda q, _: q.redrive("q", limit="5"), "limit must be"),
    ("find limit", lambda q, _: q.find_jobs(limit=-1), "limit must be"),
    ("throughput 0", lambda q, _: q.get_throughput(0), "minutes must be"),
    ("throughput huge", lambda q, _: q.get_throughput(10**9), "minutes must be"),
]

NAMES: list[tuple[str, Call, str]] = [
    ("create 123", lambda q, _: q.create_queue(123), "queue name must be"),
    ("create None", lambda q, _: q.create_queue(None), "queue name must be"),
    ("create empty", lambda q, _: q.create_queue(""), "queue name must be"),
    ("create long", lambda q, _: q.create_queue("a" * 101), "queue name must be"),
    ("create space", lambda q, _: q.create_queue("bad name"), "queue name must be"),
    ("create dash first", lambda q, _: q.create_queue("-q"), "queue name must be"),
    ("create newline", lambda q, _: q.create_queue("q\n"), "queue name must be"),
    ("create accent", lambda q, _: q.create_queue("é"), "queue name must be"),
    ("create nul", lambda q, _: q.create_queue("q\x00"), "queue name must be"),
    ("create bytes", lambda q, _: q.create_queue(b"q"), "queue name must be"),
    ("send 123", lambda q, _: q.send(123, {}), "queue name must be"),
    ("send None", lambda q, _: q.send(None, {}), "queue name must be"),
    ("insert empty", lambda q, _: q.insert("", [{}]), "queue name must be"),
    ("insert_many", lambda q, _: q.insert_many("q q", [{}]), "queue name must be"),
    ("schedule", lambda q, _: q.schedule(7, "* * * * *"), "queue name must be"),
    ("unschedule", lambda q, _: q.unschedule(["q"]), "queue name must be"),
    ("promote", lambda q, _: q.promote("", "k", 1), "queue name must be"),
    ("fetch", lambda q, _: q.fetch(123), "queue name must be"),
    ("work", lambda q, _: q.work(None, _handler), "queue name must be"),
    ("purge", lambda q, _: q.purge_queue("x y"), "queue name must be"),
    ("pause", lambda q, _: q.pause_queue(None), "queue name must be"),
    ("resume", lambda q, _: q.resume_queue(""), "queue name must be"),
    ("redrive", lambda q, _: q.redrive("a" * 200), "queue name must be"),
    ("stats", lambda q, _: q.get_queue_stats(5), "queue name must be"),
    ("find", lambda q, _: q.find_jobs(name="q\x00"), "name must be"),
    ("cancel_matching", lambda q, _: q.cancel_matching(name=3), "name must be"),
    ("dead_letter int", lambda q, _: q.create_queue("q", dead_letter=5), "dead_letter must be"),
    ("dead_letter bad", lambda q, _: q.send("q", {}, dead_letter="no such"), "dead_letter must"),
]

KEYS: list[tuple[str, Call, str]] = [
    ("group_key float", lambda q, _: q.send("q", {}, group_key=1.5), "string or an integer"),
    ("group_key dict", lambda q, _: q.send("q", {}, group_key={"a": 1}), "string or an integer"),
    ("group_key bool", lambda q, _: q.send("q", {}, group_key=True), "string or an integer"),
    ("group_key nul", lambda q, _: q.send("q", {}, group_key="u\x00"), "NUL"),
    ("group_key long", lambda q, _: q.send("q", {}, group_key="k" * 501), "at most 500"),
    ("singleton_key list", lambda q, _: q.send("q", {}, singleton_key=[1]), "string or an int"),
    ("singleton_key sur", lambda q, _: q.send("q", {}, singleton_key="\udc00"), "surrogate"),
    ("insert group_key", lambda q, _: q.insert("q", [{}], options={"group_key": b"k"}), "string"),
    ("promote key", lambda q, _: q.promote("q", None, 1), "singleton_key must be"),
    ("schedule key", lambda q, _: q.schedule("q", "* * * * *", key=1.5), "key must be"),
    ("unschedule key", lambda q, _: q.unschedule("q", key="\x00"), "key must not"),
    ("find group_key", lambda q, _: q.find_jobs(group_key=object()), "group_key must be"),
]

IDS: list[tuple[str, Call, str]] = [
    ("get_job str", lambda q, _: q.get_job("abc"), "job id must be an integer"),
    ("get_job digits", lambda q, j: q.get_job(str(j)), "job id must be an integer"),
    ("get_job float", lambda q, j: q.get_job(float(j)), "job id must be an integer"),
    ("get_job bool", lambda q, _: q.get_job(True), "job id must be an integer"),
    ("get_job huge", lambda q, _: q.get_job(2**63), "job id must be an integer"),
    ("get_job zero", lambda q, _: q.get_job(0), "job id must be an integer"),
    ("get_attempts", lambda q, _: q.get_attempts("abc"), "job id must be an integer"),
    ("cancel str", lambda q, _: q.cancel("abc"), "job ids must be"),
    ("cancel None", lambda q, _: q.cancel(None), "job ids must be"),
    ("cancel list", lambda q, j: q.cancel([j, "abc"]), "job id must be"),
    ("resume huge", lambda q, _: q.resume(2**63), "job id must be"),
    ("retry bool", lambda q, _: q.retry(True), "job ids must be"),
    ("delete negative", lambda q, _: q.delete_job([-1]), "job id must be"),
    ("complete str id", lambda q, _: q.complete([("abc", 1)]), "job id must be"),
    ("complete bad pair", lambda q, j: q.complete([(j,)]), "expected a Job, a Lease"),
    ("fail attempt big", lambda q, j: q.fail([(j, BIG)]), "attempt must be"),
    ("complete str", lambda q, _: q.complete("abc"), "jobs must be a list"),
]

START_AFTER: list[tuple[str, Call, str]] = [
    ("words", lambda q, _: q.send("q", {}, start_after="4000 days"), "at most 3653 days"),
    ("seconds", lambda q, _: q.send("q", {}, start_after=BIG), "at most 3653 days"),
    ("timedelta", lambda q, _: q.send("q", {}, start_after=timedelta(days=4000)), "at most"),
    ("iso duration", lambda q, _: q.send("q", {}, start_after="P4000D"), "at most 3653 days"),
    ("datetime", lambda q, _: q.send("q", {}, start_after=_years_ahead(11)), "at most 3653"),
    ("iso time", lambda q, _: q.send("q", {}, start_after="2999-01-01T00:00:00Z"), "at most"),
    (
        "max datetime",
        lambda q, _: q.send("q", {}, start_after=datetime.max.replace(tzinfo=UTC)),
        "at most",
    ),
    ("inf", lambda q, _: q.send("q", {}, start_after=float("inf")), "non-negative duration"),
    ("10**400", lambda q, _: q.send("q", {}, start_after=10**400), "non-negative duration"),
    ("naive", lambda q, _: q.send("q", {}, start_after=datetime(2030, 1, 1)), "timezone-aware"),
    ("bool", lambda q, _: q.send("q", {}, start_after=True), "start_after must be a duration"),
    ("insert", lambda q, _: q.insert("q", [1], options={"start_after": "600 weeks"}), "at most"),
]

UNKNOWN_QUEUES: list[tuple[str, Call, str]] = [
    ("send dead_letter", lambda q, _: q.send("q", {}, dead_letter="missing"), "'missing'"),
    (
        "insert dead_letter",
        lambda q, _: q.insert("q", [{}], options={"dead_letter": "gone"}),
        "gone",
    ),
    ("insert_many dead_letter", lambda q, _: q.insert_many("q", [{"dead_letter": "x"}]), "'x'"),
    ("schedule dead_letter", lambda q, _: q.schedule("q", "* * * * *", dead_letter="x"), "'x'"),
    ("create dead_letter", lambda q, _: q.create_queue("new", dead_letter="x"), "'x'"),
    ("update dead_letter", lambda q, _: q.create_queue("q", dead_letter="x"), "'x'"),
    ("send to none", lambda q, _: q.send("nope", {}), "'nope'"),
    ("fetch none", lambda q, _: q.fetch("nope"), "'nope'"),
]

OTHER: list[tuple[str, Call, str]] = [
    ("insert a string", lambda q, _: q.insert("q", "abc"), "jobs must be a list"),
    ("insert a dict", lambda q, _: q.insert("q", {"a": 1}), "jobs must be a list"),
    ("insert options list", lambda q, _: q.insert("q", [1], options=[("priority", 1)]), "mapping"),
    ("insert option key", lambda q, _: q.insert("q", [1], options={1: 2}), "must be strings"),
    ("insert_many int", lambda q, _: q.insert_many("q", [1]), "each spec must be a mapping"),
    ("insert_many str", lambda q, _: q.insert_many("q", "ab"), "specs must be a list"),
    ("find state", lambda q, _: q.find_jobs(states=["bogus"]), "states must be among"),
    ("find states str", lambda q, _: q.find_jobs(states="failed"), "states must be a list"),
    ("find since", lambda q, _: q.find_jobs(since="yesterday"), "since must be a datetime"),
    ("find typo", lambda q, _: q.find_jobs(nmae="q"), "did you mean 'name'"),
    ("retry_matching until", lambda q, _: q.retry_matching(until=5), "until must be a datetime"),
    ("schedule cron", lambda q, _: q.schedule("q", 5), "cron expression must be a string"),
    ("schedule cron nul", lambda q, _: q.schedule("q", "* * * * *\x00"), "must not contain NUL"),
    ("schedule tz", lambda q, _: q.schedule("q", "* * * * *", tz=None), "tz must be a string"),
    ("send option typo", lambda q, _: q.send("q", {}, priorty=1), "did you mean 'priority'"),
    ("policy", lambda q, _: q.create_queue("q", policy=["standard"]), "policy must be one of"),
]


async def _handler(job: Any) -> None:
    return None


def _years_ahead(years: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=365 * years)


class Statements:
    """Records every statement run on any connection while installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[str] = []
        for cls in (psycopg.AsyncConnection, psycopg.AsyncCursor):
            monkeypatch.setattr(cls, "execute", self._spy(cls.execute))

    def _spy(self, execute: Any) -> Any:
        async def spy(target: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            self.seen.append(str(query))
            return await execute(target, query, *args, **kwargs)

        return spy


async def snapshot(sql: Any) -> list[Any]:
    """Every row of the queue's tables, as text."""
    return [
        await sql.one(
            f"SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM queue.{table} t"
        )
        for table in TABLES
    ]


@pytest.fixture(scope="module")
def shared_db_url(dropper: Dropper, template_db: str) -> Iterator[str]:
    """One database for the module: every case must leave it as it found it, which each test
    checks, so they can share it (and spare the server a clone per case)."""
    yield from fresh_database(dropper, "fm_inputs", template_db)


@pytest.fixture
def db_url(shared_db_url: str) -> str:
    return shared_db_url


@pytest.fixture
async def world(queue: JobQueue) -> tuple[JobQueue, int]:
    """Queues `q` (dead-lettering to `dlq`) and `dlq`, and one job queued in `q`."""
    if not (jobs := await queue.find_jobs(name="q", limit=1)):
        await queue.create_queue("dlq")
        await queue.create_queue("q", dead_letter="dlq")
        await queue.send("q", {"n": 1})
        jobs = await queue.find_jobs(name="q", limit=1)
    return queue, jobs[0].id


def cases(*groups: list[tuple[str, Call, str]]) -> list[Any]:
    return [pytest.param(call, match, id=name) for group in groups for name, call, match in group]


async def refused(
    world: tuple[JobQueue, int],
    sql: Any,
    call: Call,
    error: type[Exception],
    match: str | None,
) -> list[str]:
    queue, job_id = world
    before = await snapshot(sql)
    with pytest.MonkeyPatch.context() as patches:
        statements = Statements(patches)
        with pytest.raises(error, match=match):
            await call(queue, job_id)
    assert await snapshot(sql) == before
    return statements.seen


@pytest.mark.parametrize(
    ("call", "match"), cases(DATA, INTEGERS, NAMES, KEYS, IDS, START_AFTER, OTHER)
)
async def test_bad_input__invalid_option_before_any_statement(
    world: tuple[JobQueue, int], sql: Any, call: Call, match: str
) -> None:
    assert await refused(world, sql, call, InvalidOptionError, match) == []


@pytest.mark.parametrize(("call", "match"), cases(UNKNOWN_QUEUES))
async def test_bad_input__unknown_queue_after_only_the_queue_lookup(
    world: tuple[JobQueue, int], sql: Any, call: Call, match: str
) -> None:
    world[0]._queues_loaded = 0.0  # a cold cache: the lookup is the one statement allowed
    seen = await refused(world, sql, call, UnknownQueueError, match)
    assert set(seen) <= {SQL["get_queues"], SQL["insert_jobs"]}


async def test_bad_input__no_false_alarms(queue: JobQueue) -> None:
    """Text that merely looks like the forbidden escapes, valid pairs and the limits themselves
    are stored as given."""
    await queue.create_queue("dlq")
    await queue.create_queue("a" * 100, retry_limit=BIG - 1, retry_delay=BIG - 1)
    data = {
        "escaped": "\\u0000 and \\ud800",  # a backslash, then text
        "emoji": "\U0001f600 \ud83d\ude00",  # one code point, and the same as a valid pair
        "accents": "é\u00e9",
        "key\\u0000": [1.5, None, True, 10**30],
    }
    job_id = await queue.send(
        "a" * 100,
        data,
        priority=BIG - 1,
        group_key=2**70,
        singleton_key="k" * 500,
        start_after=timedelta(days=3650),
        expire_in=BIG - 1,
        dead_letter="dlq",
    )
    assert job_id is not None
    job = await queue.get_job(job_id)
    assert job is not None
    assert job.data == {**data, "emoji": "\U0001f600 \U0001f600"}
    assert (job.priority, job.group_key, job.dead_letter) == (BIG - 1, str(2**70), "dlq")
    assert await queue.send("a" * 100, None, priority=-BIG) is not None


async def test_bad_input__inside_a_transaction_leaves_it_usable(
    world: tuple[JobQueue, int], pool: Any
) -> None:
    """Refused before any SQL, so the caller's transaction is not aborted: it goes on and
    commits (a driver error would have failed every later statement in it)."""
    queue, _ = world
    async with pool.connection() as conn, conn.transaction():
        with pytest.raises(InvalidOptionError, match="NUL"):
            await queue.send("q", {"a": "\x00"}, conn=conn)
        with pytest.raises(InvalidOptionError, match="priority"):
            await queue.send("q", {}, conn=conn, priority=BIG)
        job_id = await queue.send("q", {"after": "refusals"}, conn=conn)
    job = await queue.get_job(job_id)
    assert job is not None and job.data == {"after": "refusals"}
