"""parse_message: raw RFC 5322 bytes -> ParsedMessage, fast, decoding only what the CRM needs.

Never raises: every oddity becomes a short code in `ParsedMessage.problems`. Headers are
split by hand (see headers.py); only multipart bodies use the stdlib compat32 parser.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz
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
FINGERPRINT_BODY_CHARS = 4096
_SINGLETONS = (
    "from", "sender", "subject", "date", "message-id", "in-reply-to", "references",
    "content-type", "to", "cc", "reply-to",
)  # fmt: skip
_REQUIRED = ("from", "date", "message-id")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
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
    fields: dict[str, Any] = {}
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
    fields["subject"] = " ".join((_first_text(headers, "subject", problems) or "").split())
    _read_misc(headers, fields, problems)
    _read_body(headers, block.body, raw, fields, problems)


def _check_presence(headers: Headers, problems: list[str]) -> None:
    for name in _REQUIRED:
        if name not in headers:
            problems.append(f"missing-header:{name}")
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
    fields["in_reply_to"] = normalize_message_id(_first_text(headers, "in-reply-to", problems))
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
        text = _raw_text(values, name, problems) if values else ""
        fields[field] = parse_address_list(text, name, problems) if values else ()
        if field != "reply_to" and values:
            groups.extend(parse_groups(text, name))
    fields["groups"] = tuple(groups)
    fields["from_"] = _single_address(headers, "from", problems)
    fields["sender"] = _single_address(headers, "sender", problems)
    fields["return_path"] = _return_path(_first_text(headers, "return-path", problems))


def _single_address(headers: Headers, name: str, problems: list[str]) -> Address | None:
    values = headers.get(name)
    if not values:
        return None
    found = parse_address_list(_raw_text(values[:1], name, problems), name, problems)
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
    try:
        parts = parsedate_tz(text)
    except Exception:  # parsedate_tz has raised IndexError/ValueError on odd input
        parts = None
    if parts is None:
        problems.append(f"bad-date:{text[:60]}")
        return None
    year = parts[0] + 1900 if 100 <= parts[0] < 200 else parts[0]  # "102" = 2002 (Y2K bugs)
    try:
        moment = datetime(
            year, parts[1], parts[2], parts[3], parts[4], min(parts[5], 59), tzinfo=UTC
        )
        return moment - timedelta(seconds=parts[9] or 0)
    except (ValueError, OverflowError):
        problems.append(f"bad-date:{text[:60]}")
        return None


def _read_misc(headers: Headers, fields: dict[str, Any], problems: list[str]) -> None:
    for field, name in _MISC_HEADERS.items():
        text = _first_text(headers, name, problems) if name in headers else None
        fields[field] = " ".join(text.split()) if text else None
    list_id = _first_text(headers, "list-id", problems)
    if list_id:
        match = _ANGLE_ID.search(list_id)
        fields["list_id"] = (match.group(1) if match else list_id).strip().lower() or None


def _read_body(
    headers: Headers, body: bytes, raw: bytes, fields: dict[str, Any], problems: list[str]
) -> None:
    ctype = parse_content_type(_first_text(headers, "content-type", problems))
    fields["content_type"] = ctype.mime_type
    report_type = (ctype.param("report-type") or "").lower()
    fields["is_delivery_report"] = (
        ctype.mime_type == "multipart/report" and report_type == "delivery-status"
    )
    encoding = (_first_text(headers, "content-transfer-encoding", problems) or "").strip().lower()
    info = extract_body(body, ctype, encoding, raw, problems)
    fields["body_text"] = info.text
    fields["has_calendar"] = info.has_calendar
    fields["has_attachment"] = info.has_attachment
    subject = fields.get("subject") or ""
    found = bulk.signal(headers, info.text, html_only=info.html_only, subject=subject)
    fields["bulk_signal"] = str(found) if found else None
    fields["snippet"] = snippet(info.text)


def snippet(text: str) -> str:
    """The first `SNIPPET_CHARS` of the text's first `SNIPPET_CHARS * 8`, whitespace collapsed.

    Collapsing a prefix gives a prefix of the collapsed whole, so a short prefix that already
    yields enough characters gives the same snippet without splitting 1,600 characters."""
    short = " ".join(text[: SNIPPET_CHARS * 2].split())
    if len(short) >= SNIPPET_CHARS:
        return short[:SNIPPET_CHARS]
    return " ".join(text[: SNIPPET_CHARS * 8].split())[:SNIPPET_CHARS]


def _build(fields: dict[str, Any], problems: list[str], raw: bytes) -> ParsedMessage:
    """Freeze the recovered fields; problems are de-duplicated in first-seen order."""
    fields.setdefault("size", len(raw))
    fields["fingerprint"] = _fingerprint(fields, raw)
    return ParsedMessage(**fields, problems=tuple(dict.fromkeys(problems)))


def _fingerprint(fields: dict[str, Any], raw: bytes) -> str:
    """sha256 over From, Date, Subject and the first 4 KB of body; raw bytes if all are empty."""
    sender = fields.get("from_")
    date = fields.get("date")
    parts = (
        sender.email if sender else "",
        date.isoformat() if date else "",
        fields.get("subject", ""),
        fields.get("body_text", "")[:FINGERPRINT_BODY_CHARS],
    )
    if not any(parts):
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
