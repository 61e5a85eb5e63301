"""The strict FETCH reader answers exactly what imapclient's parser does, or hands over to it."""

from __future__ import annotations

import imaplib
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

from fluffymail.integrations.mail import imap_fetch

TAG = b"ABCD12"
BODY = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody {3}\r\n)\r\n"


class _Trickle(io.RawIOBase):
    """A socket that hands out at most `step` bytes per read (answers split anywhere)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._step, self._at = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._at : self._at + min(self._step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)


def _read(wire: bytes, step: int = 1 << 16) -> dict[int, dict[bytes, Any]]:
    return imap_fetch.read_fetch(io.BufferedReader(_Trickle(wire, step), 64), TAG)


def _message(seq: int, items: bytes, body: bytes, after: bytes = b"") -> bytes:
    return b"* %d FETCH (%s BODY[] {%d}\r\n%s%s)\r\n" % (seq, items, len(body), body, after)


def _imapclient(wire: bytes) -> dict[int, dict[bytes, Any]]:
    """What imapclient makes of the same untagged FETCH answers, kept as imaplib keeps them."""
    pieces: list[Any] = []
    stream = io.BytesIO(wire)
    while (line := stream.readline()) and not line.startswith(TAG):
        fetch = b" FETCH " in line
        line = line[:-2]
        while line.endswith(b"}"):
            size = int(line[line.rindex(b"{") + 1 : -1])
            pieces.append((_strip(line), stream.read(size)))
            line = stream.readline()[:-2]
        if fetch:
            pieces.append(_strip(line))
    return dict(parse_fetch_response(pieces, normalise_times=False, uid_is_key=True))


def _strip(line: bytes) -> bytes:
    if line.startswith(b"* "):
        seq, _, rest = line[2:].partition(b" FETCH ")
        return seq + b" " + rest
    return line


DONE = TAG + b" OK Fetch completed (0.001 + 0.000 secs).\r\n"
CASES = {
    "dovecot order": _message(1, b'UID 7 FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700"', BODY),
    "odd literal sizes": b"".join(
        _message(i, b"UID %d FLAGS ()" % (100 + i), b"x" * size + b"\r\n" * (size % 3))
        for i, size in enumerate((0, 1, 2, 63, 64, 65, 4097), 1)
    ),
    "items after the body": _message(2, b"UID 9", BODY, b' FLAGS (\\Answered $Label1 NonJunk) INTERNALDATE " 6-Dec-2026 09:41:02 +0000"'),
    "flags with backslashes": _message(3, b"UID 10 FLAGS (\\Seen \\Flagged \\Deleted \\Draft $Forwarded)", BODY),
    "flags with brackets": _message(3, b"UID 10 FLAGS (\\Seen odd[flag])", BODY),
    "body first": b"* 4 FETCH (BODY[] {5}\r\nhello UID 11 FLAGS ())\r\n",
    "nil body": b'* 5 FETCH (UID 12 FLAGS () BODY[] NIL)\r\n',
    "quoted body": b'* 6 FETCH (UID 13 BODY[] "a \\"quoted\\" body" FLAGS (\\Seen))\r\n',
    "lower-case items": b"* 7 FETCH (uid 14 flags (\\Seen) body[] {5}\r\nhello)\r\n",
    "two literals": b'* 8 FETCH (UID 15 BODY[] {5}\r\nhello BODY[HEADER] {2}\r\nhi)\r\n',
    "unsolicited flags": b"* 9 FETCH (FLAGS (\\Seen))\r\n" + _message(10, b"UID 16", BODY),
    "other untagged answers": b"* 12 EXISTS\r\n* 3 EXPUNGE\r\n* OK [ALERT] hi\r\n" + _message(1, b"UID 17", BODY),
    "unknown item": _message(11, b"UID 18 MODSEQ (12345)", BODY),
    "bad date": _message(12, b'UID 19 INTERNALDATE "yesterday"', BODY),
    "two-digit year date": _message(13, b'UID 20 INTERNALDATE "1-Jan-96 10:00:00 +0100"', BODY),
    "impossible date": _message(14, b'UID 21 INTERNALDATE "31-Feb-2020 10:00:00 +0100"', BODY),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("step", [1, 7, 1 << 16])
def test_read_fetch__answers_what_imapclient_answers(name: str, step: int) -> None:
    wire = CASES[name] + DONE
    assert _read(wire, step) == _imapclient(wire)


def test_read_fetch__the_common_shape_is_parsed_strictly() -> None:
    wire = CASES["dovecot order"]
    response = [(b'1 (UID 7 FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" BODY[] {%d}' % len(BODY), BODY), b")"]  # fmt: skip
    parsed = imap_fetch.parse_one(response)
    assert parsed == {
        7: {
            b"SEQ": 1,
            b"FLAGS": (b"\\Seen",),
            b"INTERNALDATE": datetime(1996, 7, 17, 2, 44, 25, tzinfo=timezone(timedelta(hours=-7))),
            b"BODY[]": BODY,
        }
    }
    assert _read(wire + DONE) == parsed
    assert parsed[7][b"INTERNALDATE"] == datetime(1996, 7, 17, 9, 44, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    "response",
    [
        [b"5 (UID 12 BODY[] NIL)"],
        [(b"7 (uid 14 body[] {5}", b"hello"), b")"],
        [(b"8 (UID 15 BODY[] {5}", b"hello"), b" MODSEQ (1))"],
        [(b"9 (FLAGS () BODY[] {5}", b"hello"), b")"],  # no UID
        [(b"9 (UID 1 UID 2 BODY[] {5}", b"hello"), b")"],
        [(b"9 (UID 1 BODY[] {5}", b"hello"), b") trailing"],
        [(b"9 (UID 1 FLAGS (a[b]) BODY[] {5}", b"hello"), b")"],
    ],
)
def test_parse_one__declines_other_shapes(response: list[Any]) -> None:
    assert imap_fetch.parse_one(response) is None


def test_read_fetch__refused_and_broken_answers() -> None:
    with pytest.raises(IMAPClientError, match="fetch failed: NO"):
        _read(CASES["dovecot order"] + TAG + b" NO [SERVERBUG] oops\r\n")
    with pytest.raises(imaplib.IMAP4.abort, match="EOF"):
        _read(CASES["dovecot order"])  # no completion: the connection closed
    with pytest.raises(imaplib.IMAP4.abort, match="EOF in a literal"):
        _read(b"* 1 FETCH (UID 1 BODY[] {500}\r\nshort")
    with pytest.raises(imaplib.IMAP4.abort, match="unterminated"):
        _read(b"* 1 FETCH (UID 1 FLAGS ())")
    with pytest.raises(imaplib.IMAP4.abort, match="BYE"):
        _read(b"* BYE shutting down\r\n" + DONE)
    with pytest.raises(imaplib.IMAP4.abort, match="unexpected response"):
        _read(b"+ go ahead\r\n" + DONE)
    with pytest.raises(imaplib.IMAP4.abort, match="unreadable FETCH"):
        _read(b"* 1 FETCH (UID\r\n" + DONE)
