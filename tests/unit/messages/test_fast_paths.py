"""The parse's fast paths give exactly what the general code they stand in for gives.

Each test draws many inputs (a seeded generator, so a failure repeats) around the fast path's
edges and compares it with the slower, general way; `test_parse_unchanged` holds the whole
parse to its reference output on real mail.
"""

from __future__ import annotations

import random
import re
from dataclasses import MISSING, fields

import pytest

from fluffymail.crm.mail.models import IncomingMessage
from fluffymail.crm.mail.prepare import prepare, prepare_all
from fluffymail.crm.messages import addresses, body, bulk, headers, parse
from fluffymail.crm.messages.models import ParsedMessage

RUNS = 20_000


def _text(rng: random.Random, pieces: tuple[str, ...], most: int = 12) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(most + 1)))


def _date(rng: random.Random) -> str:
    day = rng.choice(["Mon, ", "Tue, ", "mon, ", "Xyz, ", "Sun ", ""])
    number = str(rng.randrange(0, 40)).zfill(rng.choice([1, 2]))
    month = rng.choice(["Jan", "Feb", "Sep", "Dec", "jan", "Foo"])
    year = str(rng.choice([rng.randrange(10_000), 1999, 2001, 9999, 150, 2])).zfill(
        rng.choice([2, 4])
    )
    clock = ":".join(str(rng.randrange(100)).zfill(2) for _ in range(rng.choice([2, 3, 3])))
    zone = rng.choice(["+", "-", ""]) + str(rng.choice([0, 700, 530, rng.randrange(10_000)]))
    zone = zone.zfill(5) if zone[:1] not in "+-" else zone[0] + zone[1:].zfill(4)
    after = rng.choice(["", " (PDT)", "(PDT)", " a b", "\t(EST)", " ", "\x00"])
    text = f"{day}{number} {month} {year} {clock} {zone}{after}"
    return text[: rng.randrange(len(text) + 1)] if rng.random() < 0.05 else text


def test_plain_date__reads_what_parsedate_tz_reads() -> None:
    rng = random.Random(1)
    plain = 0
    for _ in range(RUNS):
        text = _date(rng)
        found = parse._plain_date(text)
        if found is not None:
            plain += 1
            assert found == parse._any_date(text), text
    assert plain > RUNS // 20  # the usual shape was drawn often enough to mean something


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 23 Apr 2001 12:41:00 -0700 (PDT)", "2001-04-23T19:41:00+00:00"),
        ("23 Apr 2001 12:41:00 +0130", "2001-04-23T11:11:00+00:00"),
        ("Tue, 5 Sep 2000 06:30:60 -0000", "2000-09-05T06:30:59+00:00"),  # -0000: no zone
        ("Tue, 31 Feb 2000 06:30:00 +0000", None),  # no such day
        ("Fri, 31 Dec 9999 23:00:00 -0700", None),  # past the last datetime
        ("Sat, 1 Jan 0102 10:00:00 +0000", "2002-01-01T10:00:00+00:00"),  # general path, Y2K
    ],
)
def test_parse_date__edges(text: str, expected: str | None) -> None:
    problems: list[str] = []
    found = parse.parse_date(text, problems)
    assert (found.isoformat() if found else None) == expected
    assert problems == ([] if expected else [f"bad-date:{text}"])


def test_parsed_message__fields_build_by_slots() -> None:
    """`_build` sets the slots itself: every field needs a plain default and no __post_init__."""
    assert not hasattr(ParsedMessage, "__post_init__")
    for field in fields(ParsedMessage):
        assert field.default is not MISSING and field.default_factory is MISSING, field.name
    assert list(parse._DEFAULTS) == [field.name for field in fields(ParsedMessage)]


def test_build__what_the_dataclass_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []
    build = parse._build

    def keep(found: dict[str, object], problems: list[str], raw: bytes) -> ParsedMessage:
        message = build(found, problems, raw)
        seen.append(dict(found))
        return message

    monkeypatch.setattr(parse, "_build", keep)
    raw = (
        b"From: Ann <ann@x.com>\nTo: b@y.com\nSubject: Re: x\nDate: Mon, 1 Jan 2001 10:00:00 +0000"
        b"\nMessage-ID: <m@x>\nX-From: Ann\n\nhello\n"
    )
    message = parse.parse_message(raw)
    assert list(seen[0]) == list(parse._DEFAULTS)  # every key a field, none added
    assert message == ParsedMessage(**seen[0])  # type: ignore[arg-type]


def test_parse__a_failure_half_way_keeps_what_was_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(parse, "_read_misc", fail)
    raw = b"From: ann@x.com\nSubject: s\nDate: Mon, 1 Jan 2001 10:00:00 +0000\n\nbody\n"
    message = parse.parse_message(raw)
    assert message.problems == ("missing-header:message-id", "parse-error:RuntimeError")
    assert (message.subject, message.size, message.body_text) == ("s", len(raw), "")
    assert message.from_ is not None and message.fingerprint
    assert parse.parse_message(bytearray(raw)).size == len(raw)


def _head(rng: random.Random) -> bytes:
    pieces = (
        "From: a@x.com", "Subject: s", "X-A:\tv", " folded", "\tmore", "Bad line", "X-B : v",
        "X-C\t: w", ": none", "", "\r", "x",
    )  # fmt: skip
    ends = ("\r\n", "\r\n", "\r\n", "\n", "\r", "\r\r\n")
    lines = [rng.choice(pieces) + rng.choice(ends) for _ in range(rng.randrange(1, 8))]
    return "".join(lines).encode() + rng.choice([b"\r\n", b"\n", b""]) + b"body\r\n"


def test_split_crlf__same_head_lines_and_body_as_the_general_split() -> None:
    rng = random.Random(2)
    taken = 0
    for _ in range(RUNS):
        raw = _head(rng)
        found = headers._split_crlf(raw)
        if found is not None:
            taken += 1
            assert found == headers._split_any(raw), raw
    assert taken > RUNS // 20


def test_collect_plain__same_fields_as_the_pattern_walk() -> None:
    rng = random.Random(3)
    for _ in range(RUNS):
        head, lines, _, _ = headers._split_any(_head(rng))
        found = headers._collect_plain(lines)
        if found is not None:
            assert found == headers._collect(head, []), head


def test_quoted_dashes__same_first_match_as_the_plain_repeat() -> None:
    plain = re.compile(r"-{3,}\s*(?:original message|forwarded (?:message|by))")
    ours = bulk._QUOTED_BRANCHES[0][0]
    pieces = ("-", "--", "----", " ", "\n", "\t", "original message", "forwarded by", "x", "\xa0")
    rng = random.Random(4)
    for _ in range(RUNS):
        text = _text(rng, pieces)
        expected, found = plain.search(text), ours.search(text)
        assert (found and found.start()) == (expected and expected.start()), text
    assert ours.search("-" * 200_000 + "x") is None  # one pass over a long run of dashes


def test_unsubscribe_words__every_phrase_holds_one_close_to_its_start() -> None:
    longest = (
        "unsubscribe", "opt out", "remove yourself", "to be removed",
        "no longer wish to receive", "do not wish to receive", "stop receiving",
        "update your e-mail preferences", "manage your subscription",
    )  # fmt: skip
    for phrase in longest:
        assert bulk._UNSUBSCRIBE_LOWER.fullmatch(phrase), phrase
        assert 0 <= bulk._first_word(phrase) <= bulk._WORD_LEAD, phrase


def test_unsubscribe_line__same_as_searching_the_whole_tail() -> None:
    pieces = (
        "word ", "\n", "opt", "options ", "OPT-OUT", " out", "remove ", "to be removed",
        "Unsubscribe", "subscription", "manage ", "your ", "update your email preferences",
        "wish to receive", "stop receiving ", "é", "x" * 300,
    )  # fmt: skip
    rng = random.Random(5)
    for _ in range(RUNS):
        text = _text(rng, pieces, most=30)
        start = max(len(text) - bulk._TAIL_CHARS, 0)
        expected = bulk._UNSUBSCRIBE.search(text, start)
        assert bulk._unsubscribe_line(text) == (expected and expected.start()), text


def test_ascii_text__same_as_decoding_then_joining_crlf() -> None:
    rng = random.Random(6)
    for _ in range(RUNS):
        data = _text(rng, ("a", " ", "\r", "\n", "\r\n", "\r\r\n"), most=10).encode()
        assert body._ascii_text(data) == data.decode("ascii").replace("\r\n", "\n"), data


def test_parse_bare__same_addresses_and_problems_as_the_general_path() -> None:
    pieces = ("a@x.com", "B@Y.com.", "c@d", "bob", "a b@x.com", "x/y@z", "", " ", "@", "e@f..g")
    rng = random.Random(7)
    for _ in range(RUNS):
        text = ",".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))
        bare: list[str] = []
        found = addresses._parse_bare(text, "to", bare)
        if found is None:
            assert bare == []
            continue
        general: list[str] = []
        expected = addresses._from_pairs(addresses._split_simple(text), text, "to", general)
        assert (found, bare) == (expected, general), text


def test_snippet__the_first_200_characters_of_the_first_1600_collapsed() -> None:
    rng = random.Random(8)
    for _ in range(RUNS // 4):
        text = _text(rng, ("word", " ", "\n", "\t\t", " " * 40, "\n" * 30, "x" * 90), most=40)
        assert parse.snippet(text) == " ".join(text[:1600].split())[:200]


def test_header_signal__reads_an_iterator_once() -> None:
    names = ["From", "To", "X-Mailgun-Sid"]
    for _ in range(2):  # the second time, the plain names are known
        assert bulk.header_signal(iter(names)) is bulk.BulkSignal.PLATFORM_HEADER
        assert bulk.header_signal(iter(names[:2])) is None


def test_prepare_all__what_prepare_gives_each_message() -> None:
    raw = (
        b"From: Ann <ann@x.com>\r\nTo: b@y.com, Cy <cy@z.com>\r\nSubject: plans\r\n"
        b"Message-ID: <m1@x>\r\nDate: Mon, 1 Jan 2001 10:00:00 +0000\r\n\r\nSee you.\r\n"
    )
    mails = [("inbox", "1:1", raw, None), ("inbox", "1:2", raw, "T9"), ("x", "\x00", b"", None)]
    expected = [
        prepare(
            IncomingMessage(
                folder=folder,
                source_id=source_id,
                parsed=parse.parse_message(message),
                provider_thread_id=thread_id,
            )
        )
        for folder, source_id, message, thread_id in mails
    ]
    assert prepare_all(mails) == expected
    assert expected[2].source_id == ""  # cleaned


# the quote markers as they were before they kept their blanks on the marker's line
_QUOTED_BEFORE = re.compile(
    r"-{3,}\s*(?:original message|forwarded (?:message|by))|^\s*begin forwarded message"
    r"|wrote:\s*$|^>|^\s*(?:subject|sent|to|cc):\s",
    re.IGNORECASE | re.MULTILINE,
)


def _body_signal_before(text: str) -> bulk.BulkSignal | None:
    found = bulk._UNSUBSCRIBE.search(text, max(len(text) - bulk._TAIL_CHARS, 0))
    if found is None:
        return None
    quoted = _QUOTED_BEFORE.search(text)
    return (
        bulk.BulkSignal.BODY_UNSUBSCRIBE
        if quoted is None or quoted.start() > found.start()
        else None
    )


def test_quote_lines__the_same_body_signal_as_the_blank_crossing_patterns() -> None:
    pieces = (
        "\n", "\n\n", " ", "\t", "\r", "x", "É", "subject: a", "To: b", "> ", "wrote:",
        "begin forwarded message", "----- Original Message", "unsubscribe", "opt out",
    )  # fmt: skip
    rng = random.Random(5)
    for _ in range(RUNS):
        text = _text(rng, pieces, 16)
        assert bulk.body_signal(text, html_only=False) == _body_signal_before(text), text


@pytest.mark.parametrize("accent", ["", "é"])
def test_quote_lines__a_long_run_of_blank_lines_is_read_once(accent: str) -> None:
    # no quote marker after the blank lines: the search passes them all (20,000 took 2.6 s on
    # the lower-cased path and 11.7 s on the other when each line break rescanned the rest)
    text = f"hi{accent}" + "\n" * 200_000 + "click to unsubscribe"
    assert bulk.body_signal(text, html_only=False) == bulk.BulkSignal.BODY_UNSUBSCRIBE
