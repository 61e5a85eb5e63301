"""A strict, fast reader for the one FETCH the IMAP source sends; imapclient's parser for anything else.

`fetch_mail` sends `UID FETCH <uids> (BODY.PEEK[] FLAGS INTERNALDATE)` on an IMAPClient's
connection and reads the answer straight from its socket file: each untagged FETCH is a line,
one literal (the message) and a closing line, pulled apart with a few anchored patterns. A
response of any other shape (NIL or quoted body, several literals, lower-case or unknown
items, odd flags) goes to imapclient's own `parse_fetch_response`, so the result is always
what `IMAPClient.fetch` would have returned. Failures are imaplib's: `IMAP4.abort` for a
broken connection or an answer that is not IMAP, `IMAP4.error` for a refused command.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response
from imapclient.util import to_bytes

__all__ = ["ITEMS", "FetchResponse", "fetch_mail", "parse_one", "read_fetch"]

ITEMS = b"(BODY.PEEK[] FLAGS INTERNALDATE)"
FetchResponse = list[tuple[bytes, bytes] | bytes]
"""One untagged FETCH as imaplib keeps it: (line, literal) per literal, then the last line."""

_MAX_LINE = 1_000_000  # imaplib's bound on a response line
_LITERAL = re.compile(rb"\{(\d+)\}\r\n\Z")
_UNTAGGED_FETCH = re.compile(rb"\* (\d+) FETCH ")
_HEAD = re.compile(rb"(\d+) \(")
# one item and the space after it (the last one before the body, or before ")", has none)
_ITEM = re.compile(
    rb'(?:UID (\d+)|FLAGS \(([^()"{}\[\]\r\n]*)\)|INTERNALDATE "([^"\\\r\n]*)")( |(?=\)\Z))'
)
_BODY = re.compile(rb"BODY\[\] \{\d+\}\Z")
_DATE = re.compile(rb"([ \d]\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\Z")
_MONTHS = {m.encode(): i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}  # fmt: skip


def fetch_mail(client: IMAPClient, uids: Sequence[int]) -> dict[int, dict[bytes, Any]]:
    """`client.fetch(uids, [BODY.PEEK[], FLAGS, INTERNALDATE])` with `normalise_times` off,
    read and parsed here: {uid: {b"SEQ", b"BODY[]", b"FLAGS", b"INTERNALDATE"}} for the
    UIDs asked (unsolicited answers about other messages are dropped, as imapclient does)."""
    if not uids:
        return {}
    imap = client._imap
    tag = imap._command("UID", "FETCH", b",".join(to_bytes(str(uid)) for uid in uids), ITEMS)
    try:
        fetched = read_fetch(imap.file, tag)
    finally:
        imap.tagged_commands.pop(tag, None)
    return {uid: fetched[uid] for uid in uids if uid in fetched}


def read_fetch(file: BinaryIO, tag: bytes) -> dict[int, dict[bytes, Any]]:
    """Read untagged answers up to `tag`'s completion; the FETCH ones parsed, keyed by UID.

    Raises:
        imaplib.IMAP4.abort: EOF, an unterminated or overlong line, BYE, or an answer that is
            not IMAP.
        IMAPClientError: the command completed with NO or BAD.
    """
    fetched: dict[int, dict[bytes, Any]] = {}
    done = tag + b" "
    while True:
        line = _line(file)
        if line.startswith(done):
            _check_completion(line[len(done) :])
            return fetched
        if not line.startswith(b"* "):
            raise imaplib.IMAP4.abort(f"unexpected response: {line[:200]!r}")
        response: FetchResponse = []
        while (literal := _LITERAL.search(line)) is not None:
            response.append((line[:-2], _exact(file, int(literal.group(1)))))
            line = _line(file)
        response.append(line[:-2])
        first = response[0][0] if isinstance(response[0], tuple) else response[0]
        if _UNTAGGED_FETCH.match(first) is not None:
            response[0] = _as_imaplib_keeps_it(response[0])
            for uid, data in (parse_one(response) or _fallback(response)).items():
                fetched.setdefault(uid, {}).update(data)
        elif first.startswith(b"* BYE"):
            raise imaplib.IMAP4.abort(first[2:].decode("utf-8", "replace"))
        # other untagged answers (EXISTS, EXPUNGE, OK [ALERT] ...) change nothing here


def parse_one(response: FetchResponse) -> dict[int, dict[bytes, Any]] | None:
    """The strict parse of one untagged FETCH (without its leading "* "; "<seq> (...)"):
    exactly one literal, the body, among UID, FLAGS and INTERNALDATE in any order; None for
    any other shape (the caller then hands it to imapclient)."""
    if len(response) != 2 or not isinstance(response[0], tuple):
        return None
    (head, body), tail = response
    if not isinstance(tail, bytes) or (start := _HEAD.match(head)) is None:
        return None
    data: dict[bytes, Any] = {b"SEQ": int(start.group(1))}
    uid: list[int] = []
    position = _items(head, start.end(), data, uid)
    if position is None or _BODY.match(head, position) is None:
        return None
    data[b"BODY[]"] = body
    if tail.startswith(b" "):
        position = _items(tail, 1, data, uid)
        if position is None or tail[position:] != b")":
            return None
    elif tail != b")":
        return None
    if len(uid) != 1:
        return None
    return {uid[0]: data}


def _items(text: bytes, position: int, data: dict[bytes, Any], uid: list[int]) -> int | None:
    """Read known items from `position` on; where they stop, or None on a malformed item."""
    while (item := _ITEM.match(text, position)) is not None:
        found_uid, flags, date, _ = item.groups()
        if found_uid is not None:
            uid.append(int(found_uid))
        elif flags is not None:
            data[b"FLAGS"] = tuple(flags.split())
        else:
            data[b"INTERNALDATE"] = _internal_date(date)
        position = item.end()
    return position


def _internal_date(text: bytes) -> datetime | None:
    """INTERNALDATE with its offset ("17-Jul-1996 02:44:25 -0700"); imapclient's reading of
    anything else, None when that fails too (as imapclient does)."""
    found = _DATE.match(text)
    month = _MONTHS.get(found.group(2)) if found is not None else None
    if found is None or month is None:
        return _fallback_date(text)
    day, _, year, hour, minute, second, sign, off_h, off_m = found.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m))
    try:
        return datetime(int(year), month, int(day), int(hour), int(minute), int(second),
                        tzinfo=timezone(-offset if sign == b"-" else offset))  # fmt: skip
    except ValueError:
        return _fallback_date(text)


def _fallback_date(text: bytes) -> datetime | None:
    parsed = _fallback([b'1 (INTERNALDATE "' + text + b'")'])
    return parsed[1].get(b"INTERNALDATE") if parsed else None


def _fallback(response: FetchResponse) -> dict[int, dict[bytes, Any]]:
    """imapclient's parse of one untagged FETCH (its errors are protocol errors here)."""
    try:
        return dict(parse_fetch_response(list(response), normalise_times=False, uid_is_key=True))
    except Exception as exc:
        raise imaplib.IMAP4.abort(f"unreadable FETCH response: {exc}") from exc


def _as_imaplib_keeps_it(first: tuple[bytes, bytes] | bytes) -> tuple[bytes, bytes] | bytes:
    """The first piece without "* " and " FETCH": "<seq> (...", as imaplib keeps it."""
    if isinstance(first, tuple):
        return (_without_fetch(first[0]), first[1])
    return _without_fetch(first)


def _without_fetch(line: bytes) -> bytes:
    seq, _, rest = line[2:].partition(b" FETCH ")
    return seq + b" " + rest


def _line(file: BinaryIO) -> bytes:
    """One CRLF-terminated line, CRLF kept."""
    line = file.readline(_MAX_LINE + 1)
    if not line:
        raise imaplib.IMAP4.abort("socket error: EOF")
    if len(line) > _MAX_LINE:
        raise imaplib.IMAP4.abort(f"got more than {_MAX_LINE} bytes")
    if not line.endswith(b"\r\n"):
        raise imaplib.IMAP4.abort(f"socket error: unterminated line: {line[:200]!r}")
    return line


def _exact(file: BinaryIO, size: int) -> bytes:
    """`size` bytes of a literal (a buffered file reads until it has them, or EOF)."""
    data = file.read(size)
    if len(data) != size:
        raise imaplib.IMAP4.abort("socket error: EOF in a literal")
    return data


def _check_completion(status: bytes) -> None:
    if not status.startswith(b"OK"):
        text = status.decode("utf-8", "replace")
        raise IMAPClientError(f"fetch failed: {text}")
