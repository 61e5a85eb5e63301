"""Body extraction: pick the text of a message (plain text preferred, HTML converted) cheaply.

Single-part messages are decoded straight from bytes; only multipart/message bodies go
through the stdlib `compat32` parser, whose structural defects are reported as problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser

from fluffymail.crm.messages.decode import decode_bytes, decode_transfer

__all__ = ["BodyInfo", "ContentType", "extract_body", "html_to_text", "parse_content_type"]

MAX_BODY_CHARS = 256 * 1024
_MAX_TEXT_BYTES = 4 * MAX_BODY_CHARS
_PARAM = re.compile(r';\s*([!#-\'*+\-.0-9A-Z^-~]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;\s]*)')
_BLOCK_END = re.compile(r"(?i)<(?:br|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote)\b[^>]*>")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")
_LONE_CR = re.compile(rb"\r(?!\n)")
_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')  # must be quoted in a parameter value (RFC 2045)
_PARSER = BytesParser(policy=compat32)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentType:
    """A parsed Content-Type header: lower-cased "type/subtype" plus lower-cased param names."""

    mime_type: str = "text/plain"
    params: dict[str, str] | None = None
    bad_params: tuple[str, ...] = ()  # "type" for an unusable type/subtype, else param names

    def param(self, name: str) -> str | None:
        """The value of parameter `name`, unquoted, or None."""
        return (self.params or {}).get(name)


@dataclass(slots=True, kw_only=True)  # not frozen: one per message, built at half the cost
class BodyInfo:
    """What the body walk found."""

    text: str = ""
    has_calendar: bool = False
    has_attachment: bool = False  # a part marked as an attachment, or one with a file name
    html_only: bool = False  # the text came from HTML: there was no text/plain part


@lru_cache(maxsize=1024)  # a mailbox repeats a few values; the result is never changed
def parse_content_type(value: str | None) -> ContentType:
    """Parse "type/subtype; k=v" leniently; garbage or a missing header means text/plain."""
    if not value:
        return ContentType()
    head = value.split(";", 1)[0].strip().lower()
    if head.count("/") != 1 or " " in head:
        return ContentType(bad_params=("type",))
    if ";" not in value:
        return ContentType(mime_type=head)
    found = _PARAM.findall(value)
    params = {k.lower(): v.strip('"') for k, v in found}
    bad = tuple(k.lower() for k, v in found if not v.startswith('"') and _TSPECIALS.intersection(v))
    return ContentType(mime_type=head, params=params, bad_params=bad)


def extract_body(
    body: bytes, ctype: ContentType, encoding: str, raw: bytes, problems: list[str]
) -> BodyInfo:
    """Return the message's readable text.

    Args:
        body: the bytes after the header block.
        ctype: the top-level Content-Type.
        encoding: the top-level Content-Transfer-Encoding, lower-cased.
        raw: the whole message, parsed structurally only for multipart/message types.
        problems: receives "no-text-body", "body-truncated", "broken-mime:..." and charset codes.
    """
    maintype = ctype.mime_type.partition("/")[0]
    if ctype.bad_params:
        problems.extend(f"broken-mime:bad-content-type:{name}" for name in ctype.bad_params)
    if maintype in ("multipart", "message"):
        return _walk_parts(_PARSER.parsebytes(raw), problems)
    if maintype != "text" or ctype.mime_type == "text/calendar":
        problems.append("no-text-body")
        calendar = ctype.mime_type == "text/calendar"
        return BodyInfo(has_calendar=calendar, has_attachment=not calendar)
    data = decode_transfer(body, encoding, problems)
    text = _to_text(data, ctype.mime_type, ctype.param("charset"), problems)
    return BodyInfo(text=text, html_only=ctype.mime_type == "text/html")


def _to_text(data: bytes, mime_type: str, charset: str | None, problems: list[str]) -> str:
    """Decode a text part and cap it; HTML is converted to plain text."""
    if len(data) > _MAX_TEXT_BYTES:
        data = data[:_MAX_TEXT_BYTES]
        problems.append("body-truncated")
    if mime_type != "text/html" and data.isascii():  # `decode_bytes` would add no problem
        text = _ascii_text(data)
    else:
        text = decode_bytes(data, charset, problems, "body")
        if mime_type == "text/html":
            text = html_to_text(text)
        elif "\r" in text:
            text = text.replace("\r\n", "\n")
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS]
        if "body-truncated" not in problems:
            problems.append("body-truncated")
    return text


def _ascii_text(data: bytes) -> str:
    """ASCII bytes as text, CRLF line ends made LF. When every CR ends a line (mail from an
    IMAP server), all are dropped at once: the same text for ~3/4 of `replace`'s CPU, which
    pays per line end."""
    if b"\r" not in data:
        return data.decode("ascii")
    if _LONE_CR.search(data) is None:
        return data.translate(None, b"\r").decode("ascii")
    return data.replace(b"\r\n", b"\n").decode("ascii")


def html_to_text(html: str) -> str:
    """Readable text from HTML: scripts/styles dropped, block ends become line breaks."""
    tree = LexborHTMLParser(_BLOCK_END.sub(lambda m: m.group(0) + "\n", html))
    tree.strip_tags(["script", "style", "head", "title"])
    root = tree.body or tree.root
    text = root.text(deep=True, separator="") if root is not None else ""
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\xa0", " "))
    lines = "\n".join([line.strip() for line in text.split("\n")])
    return _BLANK_LINES.sub("\n\n", lines).strip()


def _walk_parts(msg: Message, problems: list[str]) -> BodyInfo:
    """Collect MIME defects, then prefer the first inline text/plain part over text/html."""
    plain: Message | None = None
    html: Message | None = None
    has_calendar = has_attachment = False
    for part in msg.walk():
        if part.defects:
            problems.extend(f"broken-mime:{type(d).__name__}" for d in part.defects)
        mime_type = part.get_content_type()
        container = part.is_multipart()
        attached = not container and _is_attachment(part)
        if attached or (not container and _has_file_name(part)):
            has_attachment = True
        if mime_type == "text/calendar":
            has_calendar = True
        elif container or attached:
            continue
        elif mime_type == "text/plain" and plain is None:
            plain = part
        elif mime_type == "text/html" and html is None:
            html = part
    chosen = plain or html
    if chosen is None:
        problems.append("no-text-body")
        return BodyInfo(has_calendar=has_calendar, has_attachment=has_attachment)
    text = _part_text(chosen, problems)
    return BodyInfo(
        text=text,
        has_calendar=has_calendar,
        has_attachment=has_attachment,
        html_only=plain is None,
    )


def _is_attachment(part: Message) -> bool:
    disposition = part.get("content-disposition")
    return isinstance(disposition, str) and disposition.lstrip().lower().startswith("attachment")


def _has_file_name(part: Message) -> bool:
    """A named part (`filename=` or `name=`): a file, even when shown inline (an image)."""
    try:
        return bool(part.get_filename() or part.get_param("name"))
    except (TypeError, ValueError, LookupError):  # a broken RFC 2231 parameter
        return False


def _part_text(part: Message, problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_param("charset")
    label = charset if isinstance(charset, str) else None
    return _to_text(payload, part.get_content_type(), label, problems)
