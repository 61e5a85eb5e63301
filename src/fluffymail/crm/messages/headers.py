"""Header-block splitting: raw bytes -> {lower-case name: [unfolded values]} plus the body.

A hand-rolled, linear scan (about 5x faster than the stdlib feed parser): it only finds
where headers end and unfolds lines; values stay bytes until someone needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HeaderBlock", "split_message"]

HUGE_HEADER_BYTES = 16 * 1024
_FIELD_START = re.compile(rb"\r?\n(?![ \t])")  # a line break not followed by folding space
_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.MULTILINE)
_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+")
_FOLDING = (b" ", b"\t")


@dataclass(slots=True, kw_only=True)  # not frozen: one per message, built at half the cost
class HeaderBlock:
    """Headers by lower-case name (values unfolded, in order) and the undecoded body."""

    headers: dict[str, list[bytes]]
    body: bytes


def split_message(raw: bytes, problems: list[str]) -> HeaderBlock:
    """Split `raw` into headers and body the way RFC 5322 (and the feed parser) do.

    A leading mbox "From " envelope line is skipped. Headers end at the first empty line,
    or at the first line that is neither a header nor a continuation (problem
    "broken-mime:MissingHeaderBodySeparatorDefect").
    """
    if raw.startswith(b"From "):
        newline = raw.find(b"\n")
        raw = raw[newline + 1 :] if newline >= 0 else b""
    if raw.startswith((b"\n", b"\r\n")) or not raw:
        return HeaderBlock(headers={}, body=raw)
    head, lines, body, ended = _split_crlf(raw) or _split_any(raw)
    found = _collect_plain(lines)
    headers, rest = found if found is not None else _collect(head, problems)
    if rest is not None:
        problems.append("broken-mime:MissingHeaderBodySeparatorDefect")
        body = rest + b"\n\n" + body if ended else rest
    if len(head) > HUGE_HEADER_BYTES:
        _flag_huge(headers, problems)
    return HeaderBlock(headers=headers, body=body)


Split = tuple[bytes, list[bytes], bytes, bool]  # head, its lines, body, ended by a blank line


def _split_crlf(raw: bytes) -> Split | None:
    """`_split_any` for a message whose header lines all end in CRLF (an IMAP server's): its
    first CRLF CRLF is then the first empty line, and no other search is needed. None for
    any other message."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = raw[:end]
    stripped = head.rstrip(b"\r\n")
    lines = stripped.split(b"\r\n")
    if len(lines) - 1 != head.count(b"\n"):  # a bare LF: an empty line may come earlier
        return None
    return stripped, lines, raw[end + 4 :], True


def _split_any(raw: bytes) -> Split:
    """The header block (its line ends stripped at the end), its lines, and the body."""
    end = _header_end(raw)
    head, body = (raw, b"") if end is None else (raw[: end[0]], raw[end[1] :])
    head = head.rstrip(b"\r\n")
    return head, _lines(head), body, end is not None


def _header_end(raw: bytes) -> tuple[int, int] | None:
    """Where the first empty line (`\\r?\\n\\r?\\n`) starts and ends, found with `find`
    (a scan for a pattern that starts with an optional byte is several times slower)."""
    crlf = raw.find(b"\n\r\n")
    lf = raw.find(b"\n\n", 0, crlf + 1 if crlf >= 0 else len(raw))  # one starting before it
    at = lf if lf >= 0 else crlf
    if at < 0:
        return None
    start = at - 1 if at and raw[at - 1] == 13 else at  # 13: "\r"
    return start, at + (2 if lf >= 0 else 3)


def _collect_plain(lines: list[bytes]) -> tuple[dict[str, list[bytes]], None] | None:
    """`_collect` for a block where every line is a field or a continuation (nearly every
    message): each continuation appended to its field, no pattern per field. None when a
    line is anything else, such as a field whose colon is only on its continuation (the
    caller then takes `_collect`, which finds and reports that line)."""
    if lines[0][:1] in _FOLDING:
        return None
    headers: dict[str, list[bytes]] = {}
    values: list[bytes] = []  # the current field's list; its value is the last
    unstripped = b""  # the current field's value as unfolded so far
    for line in lines:
        name, colon, value = line.partition(b":")
        # a name seen before (so valid) starts a field; a continuation's "name" starts with
        # a space or tab, so it is never one of `_NAMES`
        key = _NAMES.get(name) if colon else None
        if key is None:
            if line[:1] in _FOLDING:
                unstripped += line  # unfolded: the line break goes, the space stays
                values[-1] = unstripped.strip()
                continue
            key = _new_name(name) if colon else None
            if key is None:
                return None
        unstripped = value
        values = headers.setdefault(key, [])
        values.append(value.strip())
    return headers, None


def _lines(head: bytes) -> list[bytes]:
    """The lines of `head` without their ends (CRLF or LF; a CR elsewhere stays)."""
    if b"\r" in head:
        head = head.replace(b"\r\n", b"\n")
    return head.split(b"\n")


def _new_name(name: bytes) -> str | None:
    """The key of a field name not in `_NAMES` (blanks before its colon allowed), or None
    when it is not a field name."""
    bare = name.rstrip(b" \t")
    if _NAME.fullmatch(bare) is None:
        return None
    key = _NAMES.get(bare) or _name(bare)
    if bare != name and len(_NAMES) < 4096:
        _NAMES[name] = key
    return key


def _collect(head: bytes, problems: list[str]) -> tuple[dict[str, list[bytes]], bytes | None]:
    """Unfold and store header fields; return them and the text after the last valid one."""
    if head[:1] in (b" ", b"\t"):  # a continuation of nothing: dropped, like the stdlib
        problems.append("broken-mime:FirstHeaderLineIsContinuationDefect")
        newline = _FIELD_START.search(head)
        head = head[newline.end() :] if newline else b""
    pairs: list[tuple[bytes, bytes] | None] = _FIELD.findall(head)
    fields: list[bytes] = []
    if len(pairs) != head.count(b"\n") + 1 - head.count(b"\n ") - head.count(b"\n\t"):
        fields = _FIELD_START.split(head)  # some line is not a header: find which, slowly
        pairs = [_groups(_FIELD.fullmatch(field)) for field in fields]
    headers: dict[str, list[bytes]] = {}
    for index, pair in enumerate(pairs):
        if pair is None:
            return headers, b"\n".join(fields[index:])
        name, value = pair
        if b"\n" in value:
            value = value.replace(b"\r\n", b"").replace(b"\n", b"")
        key = _NAMES.get(name) or _name(name)
        if (values := headers.get(key)) is None:
            headers[key] = [value.strip()]
        else:
            values.append(value.strip())
    return headers, None


_NAMES: dict[bytes, str] = {}  # raw field name -> lower-case str (a mailbox uses few names)


def _name(raw: bytes) -> str:
    name = raw.decode("ascii").lower()
    if len(_NAMES) < 4096:
        _NAMES[raw] = name
    return name


def _groups(match: re.Match[bytes] | None) -> tuple[bytes, bytes] | None:
    return (match.group(1), match.group(2)) if match else None


def _flag_huge(headers: dict[str, list[bytes]], problems: list[str]) -> None:
    for name, values in headers.items():
        if any(len(v) > HUGE_HEADER_BYTES for v in values):
            problems.append(f"huge-header:{name}")
