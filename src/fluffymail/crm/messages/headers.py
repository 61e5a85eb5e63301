"""Header-block splitting: raw bytes -> {lower-case name: [unfolded values]} plus the body.

A hand-rolled, linear scan (about 5x faster than the stdlib feed parser): it only finds
where headers end and unfolds lines; values stay bytes until someone needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HeaderBlock", "split_message"]

HUGE_HEADER_BYTES = 16 * 1024
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")


@dataclass(frozen=True, slots=True, kw_only=True)
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
    if raw.startswith((b"\n", b"\r\n")):
        return HeaderBlock(headers={}, body=raw)
    end = _HEADER_END.search(raw)
    head, body = (raw, b"") if end is None else (raw[: end.start()], raw[end.end() :])
    lines = head.split(b"\n")
    if lines[0].startswith(b"From "):
        del lines[0]
    if lines and not lines[-1].strip():
        lines.pop()
    headers, stop = _collect(lines, problems)
    if stop < len(lines):
        problems.append("broken-mime:MissingHeaderBodySeparatorDefect")
        rest = b"\n".join(lines[stop:])
        body = rest + b"\n\n" + body if end is not None else rest
    _flag_huge(headers, problems)
    return HeaderBlock(headers=headers, body=body)


def _collect(lines: list[bytes], problems: list[str]) -> tuple[dict[str, list[bytes]], int]:
    """Unfold header lines; return the headers and the index of the first non-header line."""
    headers: dict[str, list[bytes]] = {}
    name = ""
    parts: list[bytes] = []
    for index, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            if name:
                parts.append(line.rstrip(b"\r"))
            elif index == 0:
                problems.append("broken-mime:FirstHeaderLineIsContinuationDefect")
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            _store(headers, name, parts)
            return headers, index
        _store(headers, name, parts)
        name = match.group(1).decode("ascii").lower()
        parts = [line[match.end() :].rstrip(b"\r")]
    _store(headers, name, parts)
    return headers, len(lines)


def _store(headers: dict[str, list[bytes]], name: str, parts: list[bytes]) -> None:
    if not name:
        return
    value = (parts[0] if len(parts) == 1 else b"".join(parts)).strip()
    headers.setdefault(name, []).append(value)


def _flag_huge(headers: dict[str, list[bytes]], problems: list[str]) -> None:
    for name, values in headers.items():
        if any(len(v) > HUGE_HEADER_BYTES for v in values):
            problems.append(f"huge-header:{name}")
