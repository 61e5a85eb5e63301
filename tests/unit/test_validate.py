"""The queue's input checks (validate.py), Snooze's, and the verdicts on refused acks."""

from __future__ import annotations

import json
import logging
import random

import pytest

from fluffymail.queue import acks, validate
from fluffymail.queue.errors import InvalidOptionError
from fluffymail.queue.events import Events
from fluffymail.queue.job import Job, Lease
from fluffymail.queue.outcomes import Snooze
from fluffymail.queue.worker import describe_error


@pytest.mark.parametrize(
    "value",
    [
        "\\u0000",  # a backslash and text, not a NUL
        "\\\\u0000",
        "\\ud800",
        "\U0001f600",
        "\ud83d\ude00",  # a valid pair of surrogate code points: jsonb joins them
        {"\U0001f600\ud83d\ude00": ["\\", "\\\\ud800", "é"]},
        "\x01\x1f\x7f",
        ["\\ud800", "\U0001f600", "\\\\ud83d\\ude00"],
    ],
)
def test_json_text__accepts_what_jsonb_stores(value: object) -> None:
    assert validate.json_text(value) == json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("\x00", "a NUL character"),
        ({"a": ["b", {"c\x00": 1}]}, "a NUL character"),
        ("\\\x00", "a NUL character"),  # a backslash, then a real NUL
        ("\ud800", "a lone surrogate"),
        ("\udc00", "a lone surrogate"),
        ("\ud800x\udc00", "a lone surrogate"),
        ("\ud800\ud800\udc00", "a lone surrogate"),
        ("\udc00\ud800", "a lone surrogate"),
        ("\ud800\\", "a lone surrogate"),
        ("ok\ud83d", "a lone surrogate"),
        ("\\ud83d\ude00", "a lone surrogate"),  # text like a high half, then a lone low one
        (["\\u0000", "\udc00"], "a lone surrogate"),
    ],
)
def test_json_text__refuses_what_jsonb_cannot_store(value: object, problem: str) -> None:
    with pytest.raises(InvalidOptionError, match=f"output contains {problem}"):
        validate.json_text(value, "output")


def test_json_text__agrees_with_jsonb_on_random_tricky_strings() -> None:
    """jsonb stores a string iff, escapes decoded (pairs joined), it has no NUL and is UTF-8."""
    rng = random.Random(16)
    alphabet = [
        "\\",
        "u",
        "d",
        "8",
        "c",
        "0",
        "a",
        "\x00",
        "\ud800",
        "\udc00",
        "\ude00",
        "\U0001f600",
    ]
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        decoded = json.loads(json.dumps(value))
        try:
            storable = "\x00" not in decoded and len(decoded.encode()) >= 0
        except UnicodeEncodeError:
            storable = False
        try:
            validate.json_text(value)
        except InvalidOptionError:
            assert not storable, value
        else:
            assert storable, value


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), object(), {1, 2}, pytest.param(10**5000, id="huge")]
)
def test_json_text__refuses_what_json_cannot_encode(value: object) -> None:
    with pytest.raises(InvalidOptionError, match="data is not JSON-serialisable"):
        validate.json_text(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, True),
        (validate.INT4_MAX, True),
        (-1, False),
        (2**31, False),
        (True, False),
        (1.0, False),
    ],
)
def test_integer__type_and_range(value: object, ok: bool) -> None:
    if ok:
        assert validate.integer(value, "n") == value
    else:
        with pytest.raises(InvalidOptionError, match="n must be an integer from 0 to 2147483647"):
            validate.integer(value, "n")


def test_key__ints_become_text_and_the_rest_is_checked() -> None:
    assert validate.key(42, "group_key") == "42"
    assert validate.key("", "group_key") == ""
    for bad in (True, 1.5, None, b"k", "k" * 501, "\x00", "\ud800", "\ud83d\ude00"):
        with pytest.raises(InvalidOptionError, match="group_key"):
            validate.key(bad, "group_key")


def test_queue_name__the_tables_check_exactly() -> None:
    for good in ("q", "a" * 100, "sync-emails", "a.b:c/d_e-f", "9"):
        assert validate.queue_name(good) == good
    for bad in ("", "a" * 101, "_q", "q q", "q\n", "é", "q\x00", None, 7):
        with pytest.raises(InvalidOptionError, match="queue name must be"):
            validate.queue_name(bad)


def test_printable__escapes_only_what_cannot_be_stored() -> None:
    assert validate.printable("plain é") == "plain é"
    assert validate.printable("a\x00b\ud800c") == "a\\x00b\\ud800c"


def test_describe_error__a_nul_in_the_message_is_stored_escaped() -> None:
    error = describe_error(ValueError("bad\x00byte \udcff"))
    assert error["message"] == "bad\\x00byte \\udcff"
    validate.json_text(error)  # storable


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), 2**31, "5", None])
def test_snooze__seconds_the_database_can_add(seconds: object) -> None:
    with pytest.raises(InvalidOptionError, match="snooze seconds"):
        Snooze(seconds)  # type: ignore[arg-type]


def test_snooze__zero_and_fractions_are_fine() -> None:
    assert (Snooze(0).seconds, Snooze(0.5).seconds) == (0.0, 0.5)


@pytest.mark.parametrize(
    ("found", "recorded", "reason"),
    [
        ((3, "completed"), True, "lost_reply"),
        ((4, "completed"), False, "reclaimed"),
        ((4, "active"), False, "reclaimed"),
        (None, False, "deleted"),
        ((3, "cancelled"), False, "cancelled"),
        ((3, "retry"), False, "failed"),
        ((3, "failed"), False, "failed"),
        ((3, "created"), False, "stale"),
    ],
)
def test_ack_verdict__only_a_stale_lease_is_a_refusal(
    found: tuple[int, str] | None, recorded: bool, reason: str
) -> None:
    verdict = acks.classify(Lease(7, 3), found)
    assert (verdict.recorded, verdict.reason) == (recorded, reason)
    assert verdict.message.startswith(
        "completion already recorded (the first reply was lost)"
        if recorded
        else "completion refused"
    )


class _DownStore:
    async def lease_states(self, ids: object) -> dict[int, tuple[int, str]]:
        raise OSError("database unreachable")


async def test_ack_explain__a_failed_lookup_claims_neither(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("fluffymail.queue.test")
    job = Job(id=7, name="q", data=None, attempt=3)
    with caplog.at_level(logging.INFO, logger=log.name):
        await acks.explain(_DownStore(), [(job, None, 0.1)], Events(log), log)  # type: ignore[arg-type]
    (record,) = caplog.records
    assert record.getMessage().startswith("completion not confirmed: refused, or recorded")
    assert (record.action, record.job_id) == ("queue.ack_unconfirmed", 7)  # type: ignore[attr-defined]
