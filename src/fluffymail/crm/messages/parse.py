"""parse_message: raw RFC 5322 bytes -> ParsedMessage, fast, decoding only what the CRM needs.

Never raises: every oddity becomes a short code in `ParsedMessage.problems`. Headers are
split by hand (see headers.py); only multipart bodies use the stdlib compat32 parser.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz
from functools import lru_cache
from typing import Any

from fluffymail.crm.messages import bulk
from fluffymail.crm.messages.addresses import make_address, parse_address_list, parse_groups
from fluffymail.crm.messages.body import extract_body, parse_content_type
from fluffymail.crm.messages.decode import (
    decode_8bit_header,
    decode_encoded_words,
    decode_header_value,
)
from fluffymail.crm.messages.headers import split_message
from fluffymail.crm.messages.models import Address, AddressGroup, ParsedMessage

__all__ = ["normalize_message_id", "parse_message"]

Headers = dict[str, list[bytes]]

SNIPPET_CHARS = 200
_SNIPPET_FIRST = 256  # what `snippet` collapses first: enough for nearly every message
FINGERPRINT_BODY_CHARS = 4096
_SINGLETONS = (
    "from", "sender", "subject", "date", "message-id", "in-reply-to", "references",
    "content-type", "to", "cc", "reply-to",
)  # fmt: skip
_REQUIRED = ("from", "date", "message-id")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
# The shape nearly every Date has ("Mon, 23 Apr 2001 12:41:00 -0700 (PDT)"): read by hand to
# exactly what `parsedate_tz` makes of it (it ignores what follows the zone), several times
# faster; any other shape goes to `parsedate_tz`
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_PLAIN_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) "
    rf"({'|'.join(_MONTHS)}) ([1-9][0-9]{{3}}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})(?:\s.*)?",
    re.DOTALL,
)
_MISC_HEADERS = {
    "list_unsubscribe": "list-unsubscribe",
    "precedence": "precedence",
    "auto_submitted": "auto-submitted",
    "x_gm_thrid": "x-gm-thrid",
    "x_from": "x-from",
    "x_to": "x-to",
    "x_cc": "x-cc",
    "x_bcc": "x-bcc",
}


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one message; never raises.

    Args:
        raw: the message bytes (an mbox "From " envelope line at the start is tolerated).

    Returns:
        A ParsedMessage. If parsing failed half-way, it holds what was recovered and the
        problem "parse-error:<ExceptionType>".
    """
    fields = dict(_DEFAULTS)  # what a failed parse does not reach keeps its default
    problems: list[str] = []
    try:
        data = raw if isinstance(raw, bytes) else bytes(raw)
        fields["size"] = len(data)
        _parse_into(data, fields, problems)
    except Exception as exc:  # the contract is "never raise": keep what we have
        problems.append(f"parse-error:{type(exc).__name__}")
        data = raw if isinstance(raw, bytes) else b""
    return _build(fields, problems, data)


def _parse_into(raw: bytes, fields: dict[str, Any], problems: list[str]) -> None:
    """The parse as named steps; each fills `fields` so a late failure keeps earlier ones."""
    block = split_message(raw, problems)
    headers = block.headers
    _check_presence(headers, problems)
    _read_ids(headers, fields, problems)
    _read_addresses(headers, fields, problems)
    _read_date(headers, fields, problems)
    fields["subject"] = _one_line(_first_text(headers, "subject", problems) or "")
    _read_misc(headers, fields, problems)
    _read_body(headers, block.body, raw, fields, problems)


def _check_presence(headers: Headers, problems: list[str]) -> None:
    for name in _REQUIRED:
        if name not in headers:
            problems.append(f"missing-header:{name}")
    if sum(map(len, headers.values())) == len(headers):
        return  # no field is repeated (most messages): no duplicate to look for
    for name in _SINGLETONS:
        if (values := headers.get(name)) is not None and len(values) > 1:
            problems.append(f"duplicate-header:{name}")


def _first_text(headers: Headers, name: str, problems: list[str]) -> str | None:
    """The first `name` header, decoded (8-bit bytes and RFC 2047 words), or None."""
    values = headers.get(name)
    if not values:
        return None
    value = values[0]
    if not value.isascii():
        return decode_header_value(value, name, problems)
    text = value.decode("ascii")  # `decode_header_value`'s first step, for plain ASCII
    return decode_encoded_words(text, name, problems) if "=?" in text else text


def _raw_text(values: list[bytes], name: str, problems: list[str]) -> str:
    """Header values joined by ", ", 8-bit decoded but with encoded-words left intact."""
    joined = values[0] if len(values) == 1 else b", ".join(values)
    return decode_8bit_header(joined, name, problems)


def _read_ids(headers: Headers, fields: dict[str, Any], problems: list[str]) -> None:
    message_id = normalize_message_id(_first_text(headers, "message-id", problems))
    if message_id is not None and message_id.count("@") != 1:
        problems.append("bad-message-id")
    fields["message_id"] = message_id
    if "in-reply-to" in headers:  # (each field absent keeps its default: most are absent)
        fields["in_reply_to"] = normalize_message_id(_first_text(headers, "in-reply-to", problems))
    if "references" in headers:
        fields["references"] = _parse_references(_first_text(headers, "references", problems))


def normalize_message_id(text: str | None) -> str | None:
    """Normalise a Message-ID: "<abc@host>" -> "abc@host"; the first bracketed id wins; blank -> None."""
    if not text:
        return None
    match = _ANGLE_ID.search(text)
    value = match.group(1) if match else text
    value = "".join(value.split()).strip("<>")
    return value or None


def _parse_references(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    ids = _ANGLE_ID.findall(text) or text.replace(",", " ").split()
    cleaned = ("".join(i.split()).strip("<>") for i in ids)
    return tuple(i for i in cleaned if i)


def _read_addresses(headers: Headers, fields: dict[str, Any], problems: list[str]) -> None:
    groups: list[AddressGroup] = []
    for field, name in (("reply_to", "reply-to"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc")):
        values = headers.get(name)
        if not values:
            continue
        text = _raw_text(values, name, problems)
        fields[field] = parse_address_list(text, name, problems)
        if field != "reply_to" and ":" in text and ";" in text:  # `parse_groups`' own test,
            groups.extend(parse_groups(text, name))  # without a cache look-up per header
    fields["groups"] = tuple(groups)
    fields["from_"] = _single_address(headers, "from", problems)
    if "sender" in headers:
        fields["sender"] = _single_address(headers, "sender", problems)
    if "return-path" in headers:
        fields["return_path"] = _return_path(_first_text(headers, "return-path", problems))


def _single_address(headers: Headers, name: str, problems: list[str]) -> Address | None:
    values = headers.get(name)
    if not values:
        return None
    found = parse_address_list(decode_8bit_header(values[0], name, problems), name, problems)
    if not found:
        problems.append(f"bad-address:{name}")
    elif len(found) > 1:
        problems.append(f"multiple-addresses:{name}")
    return found[0] if found else None


def _return_path(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip().strip("<>").strip()
    return make_address(value).email if value else None


def _read_date(headers: Headers, fields: dict[str, Any], problems: list[str]) -> None:
    text = _first_text(headers, "date", problems)
    fields["date"] = parse_date(text, problems) if text is not None else None


def parse_date(text: str, problems: list[str]) -> datetime | None:
    """RFC 5322 date -> aware UTC datetime; garbage -> None plus "bad-date:<value>"."""
    parts = _plain_date(text) or _any_date(text)
    if parts is None:
        problems.append(f"bad-date:{text[:60]}")
        return None
    year, month, day, hour, minute, second, offset = parts
    year = year + 1900 if 100 <= year < 200 else year  # "102" = 2002 (Y2K bugs)
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        return moment - _utc_offset(offset) if offset else moment
    except (ValueError, OverflowError):
        problems.append(f"bad-date:{text[:60]}")
        return None


@lru_cache(maxsize=256)  # a mailbox's dates come from a few zones
def _utc_offset(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


DateParts = tuple[int, int, int, int, int, int, int]  # year ... second, UTC offset in seconds


def _plain_date(text: str) -> DateParts | None:
    """The parts of a date in the usual shape (`_PLAIN_DATE`), or None for any other."""
    found = _PLAIN_DATE.fullmatch(text)
    if found is None:
        return None
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    return (
        int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
        -offset if sign == "-" else offset,
    )  # fmt: skip


def _any_date(text: str) -> DateParts | None:
    """The parts `parsedate_tz` reads, or None."""
    try:
        parts = parsedate_tz(text)
    except Exception:  # parsedate_tz has raised IndexError/ValueError on odd input
        return None
    if parts is None:
        return None
    return (*parts[:6], parts[9] or 0)  # type: ignore[return-value]


def _read_misc(headers: Headers, fields: dict[str, Any], problems: list[str]) -> None:
    for field, name in _MISC_HEADERS.items():
        if name in headers:
            text = _first_text(headers, name, problems)
            fields[field] = _one_line(text) if text else None
    list_id = _first_text(headers, "list-id", problems) if "list-id" in headers else None
    if list_id:
        match = _ANGLE_ID.search(list_id)
        fields["list_id"] = (match.group(1) if match else list_id).strip().lower() or None


@lru_cache(maxsize=4096)  # a mailbox repeats its subjects, senders and lists of recipients
def _one_line(text: str) -> str:
    """`text` with every run of whitespace made one space, and none at the ends."""
    return " ".join(text.split())


def _read_body(
    headers: Headers, body: bytes, raw: bytes, fields: dict[str, Any], problems: list[str]
) -> None:
    ctype = parse_content_type(_first_text(headers, "content-type", problems))
    fields["content_type"] = ctype.mime_type
    fields["is_delivery_report"] = (
        ctype.mime_type == "multipart/report"
        and (ctype.param("report-type") or "").lower() == "delivery-status"
    )
    encoding = (_first_text(headers, "content-transfer-encoding", problems) or "").strip().lower()
    info = extract_body(body, ctype, encoding, raw, problems)
    fields["body_text"] = info.text
    fields["has_calendar"] = info.has_calendar
    fields["has_attachment"] = info.has_attachment
    found = bulk.signal(headers, info.text, html_only=info.html_only, subject=fields["subject"])
    fields["bulk_signal"] = str(found) if found else None
    fields["snippet"] = snippet(info.text)


def snippet(text: str) -> str:
    """The first `SNIPPET_CHARS` of the text's first `SNIPPET_CHARS * 8`, whitespace collapsed.

    Collapsing a prefix gives a prefix of the collapsed whole, so a short prefix that already
    yields enough characters (or is the whole text) gives the same snippet without splitting
    1,600 characters."""
    short = " ".join(text[:_SNIPPET_FIRST].split())
    if len(short) >= SNIPPET_CHARS or len(text) <= _SNIPPET_FIRST:
        return short[:SNIPPET_CHARS]
    return " ".join(text[: SNIPPET_CHARS * 8].split())[:SNIPPET_CHARS]


def _build(fields: dict[str, Any], problems: list[str], raw: bytes) -> ParsedMessage:
    """Freeze the recovered fields (`_DEFAULTS`' keys, in its order); problems are
    de-duplicated in first-seen order.

    The slots of a new ParsedMessage are set directly: what its frozen dataclass `__init__`
    does, at half the cost (matching 31 keywords, then an `object.__setattr__` call per
    field). A size not reached is 0, the length of the `raw` it is then given."""
    fields["fingerprint"] = _fingerprint(fields, raw)
    fields["problems"] = tuple(dict.fromkeys(problems)) if problems else ()
    message = object.__new__(ParsedMessage)
    for set_slot, value in zip(_SETTERS, fields.values(), strict=True):
        set_slot(message, value)
    return message


# ParsedMessage's fields with their defaults, in order, and each one's slot setter: every
# field has a plain default (no factory) and the class no __post_init__ (a unit test checks)
_DEFAULTS: dict[str, Any] = {field.name: field.default for field in dataclass_fields(ParsedMessage)}
_SETTERS = tuple(getattr(ParsedMessage, name).__set__ for name in _DEFAULTS)


def _fingerprint(fields: dict[str, Any], raw: bytes) -> str:
    """sha256 over From, Date, Subject and the first 4 KB of body; raw bytes if all are empty."""
    sender = fields["from_"]
    date = fields["date"]
    parts = (
        sender.email if sender else "",
        date.isoformat() if date else "",
        fields["subject"],
        fields["body_text"][:FINGERPRINT_BODY_CHARS],
    )
    if not any(parts):
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
