"""Finds the sender's signature block in a plain-text body and extracts contact fields from it.

Quoted replies and forwards are cut first (Outlook, Lotus Notes, "On ... wrote:", ``>`` lines);
the signature is the trailing block that starts at a ``-- `` delimiter, a sign-off or the
sender's name. Pure: stdlib, phonenumbers and `names` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import phonenumbers

from fluffymail.crm.contacts import names

__all__ = [
    "DEFAULT_RULES",
    "Phone",
    "PhoneKind",
    "Signature",
    "SignatureRules",
    "extract_signature",
    "strip_quoted",
]

_MAX_BODY_CHARS = 200_000
_QUOTE_MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Forwarded by|Forwarded Message|Reply Separator)"
    r"|From:\s.*\[mailto:|Begin forwarded message:|>)",
    re.IGNORECASE,
)
_ON_WROTE = re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE | re.DOTALL)
_NOTES_DATE = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*[AP]M\s*$")
_NOTES_ON = re.compile(r"\bon\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^\s*(?:From|To|Sent|Date|Subject|cc):\s", re.IGNORECASE)
_SIGNOFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many)?\s*(?:regards|wishes)|best|thanks(?: again| a lot)?"
    r"|thank you(?: very much)?|many thanks|cheers|sincerely(?: yours)?|yours(?: truly| sincerely)?"
    r"|respectfully|cordially|take care|talk soon|all the best|your pal|love|ciao|rgds|thx"
    r"|with thanks|best wishes|have a (?:good|great|nice) (?:day|weekend))"
    r"\s*[,.!-]*\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_NAMELIKE = re.compile(r"^[A-Z][A-Za-z'’.\-]*(?:\s+[A-Z][A-Za-z'’.\-]*){0,2}\.?$")
_RULE_LINE = re.compile(r"^\s*(?:_{4,}|-{4,}|={4,})\s*$")  # a drawn separator line
_INITIALS = re.compile(r"^[\s\-–—~]*(?:[A-Z]\.?\s?){1,3}$")  # "JB", "- M", "J.B."
# Words that make a short capitalised line a document or section title, not a person's name.
_TITLE_NOUNS = re.compile(
    r"\b(?:report|agenda|summary|schedule|attachments?|draft|update|memo|minutes|notes|plan"
    r"|budget|proposal|presentation|review|policy|contract|agreement|invoice|statement|form"
    r"|list|table|chart|document|file|spreadsheet|analysis|forecast|overview|appendix"
    r"|results|index|prices?|totals?|volumes?|positions?|curves?)\b",
    re.IGNORECASE,
)
# Machine-generated lines: several numeric columns, page counters, run stamps.
_NUMBER = re.compile(r"[-+$]?\d[\d,]*(?:\.\d+)?%?")
_REPORT_LINE = re.compile(
    r"\bpage\s+\d+\s+of\s+\d+\b|\b(?:run|report|generated|printed)\s+(?:on|at|date|by)\b",
    re.IGNORECASE,
)
_PS = re.compile(r"^\s*P\.?\s?P?\.?\s?S\.?[\s:]", re.IGNORECASE)
_CELL_SPLIT = re.compile(r"\t+|\s{2,}")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+")
_POSTAL = re.compile(
    r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\b\d+\s+(?:[NSEW]\.?\s+|[A-Z][a-z]+\s+)*"
    r"(?:St|Street|Ave|Avenue|Blvd|Boulevard|Rd|Road|Dr|Drive|Lane|Ln|Way|Suite|Floor|Plaza)\b\.?"
    r"|\bSuite\s+\d+|\bP\.?\s?O\.?\s+Box\b",
)
_TITLE_WORDS = re.compile(
    r"\b(?:manager|director|president|vp|vice president|analyst|trader|engineer|recruiter"
    r"|counsel|attorney|specialist|coordinator|assistant|associate|officer|consultant|executive"
    r"|head of|lead|chief|ceo|cfo|cto|coo|partner|scheduler|administrator|representative"
    r"|supervisor|advisor|adviser|developer|architect|founder|principal|chairman|secretary"
    r"|accountant|controller|treasurer|broker|economist|planner|marketer|originator)\b",
    re.IGNORECASE,
)
_COMPANY_WORDS = re.compile(
    r"\b(?:inc|llc|llp|ltd|limited|corp|corporation|company|co|gmbh|ag|plc|s\.a|n\.v|group"
    r"|partners|energy|bank|holdings|america|international)\b\.?",
    re.IGNORECASE,
)
_KIND_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fax", re.compile(r"\b(?:fax|facsimile|f)\b\s*[:.]?", re.IGNORECASE)),
    ("mobile", re.compile(r"\b(?:cell|mobile|mob|cellular|m|c)\b\s*[:.]?", re.IGNORECASE)),
    ("office", re.compile(r"\b(?:office|direct|tel|phone|ph|work|desk|o|p|t|w)\b\s*[:.]?", re.I)),
)


class PhoneKind(StrEnum):
    """What a signature says a phone number is for."""

    OFFICE = "office"
    MOBILE = "mobile"
    FAX = "fax"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Phone:
    """A phone number in E.164 form with its labelled kind."""

    e164: str
    kind: PhoneKind = PhoneKind.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureRules:
    """The detector's size limits: a signature is at most `max_lines` trailing lines of at
    most `max_line_len` characters, anchored on a line of at most `max_anchor_len` characters;
    a lone name anchors only within the last `lone_name_window` lines."""

    max_lines: int = 12
    max_line_len: int = 80
    max_anchor_len: int = 40
    lone_name_window: int = 4


DEFAULT_RULES = SignatureRules()


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """A signature block: lines ``start_line..end_line`` (0-based, inclusive) of the body."""

    start_line: int
    end_line: int
    text: str
    name: str | None = None
    title: str | None = None
    company: str | None = None
    phones: tuple[Phone, ...] = ()
    emails: tuple[str, ...] = ()
    website: str | None = None
    linkedin: str | None = None
    twitter: str | None = None
    github: str | None = None
    postal_address: str | None = None
    line_numbers: tuple[int, ...] = field(default=())


def extract_signature(
    body_text: str | None,
    sender_name: str | None = None,
    *,
    sender_email: str | None = None,
    default_region: str = "US",
    rules: SignatureRules = DEFAULT_RULES,
) -> Signature | None:
    """Find the sender's signature at the end of their own text and extract its fields.

    Args:
        body_text: the plain-text body (quoted history is ignored).
        sender_name: the From display name, used to recognise the name line.
        sender_email: the From address; its country TLD sets the phone region.
        default_region: phone region when the TLD says nothing (ISO 3166 code).
        rules: the size limits (the evaluation tunes them on some senders, scores on others).

    Returns:
        The signature with its line span, or None when no signature block is found.
    """
    if not body_text:
        return None
    lines = body_text[:_MAX_BODY_CHARS].splitlines()
    own_end = strip_quoted(lines)
    span = _find_block(lines[:own_end], _sender_tokens(sender_name, sender_email), rules)
    if span is None:
        return None
    start, end = span
    region = _region_for(sender_email, default_region)
    return _build(lines, start, end, region)


def strip_quoted(lines: list[str]) -> int:
    """Index of the first line of quoted or forwarded history (``len(lines)`` when none)."""
    for i, line in enumerate(lines):
        if _QUOTE_MARKERS.match(line) or (_NOTES_ON.search(line) and _header_follows(lines, i)):
            return i
        if _RULE_LINE.match(line) and _header_follows(lines, i):  # Outlook's "_____" + From:
            return i
        if _ON_WROTE.match(line) or (
            i + 1 < len(lines) and _ON_WROTE.match(f"{line} {lines[i + 1]}")
        ):
            return i
        if _HEADER_LINE.match(line) and line.lstrip().lower().startswith("from:"):
            if _header_follows(lines, i):
                return i
        if _NOTES_DATE.match(line) and _header_follows(lines, i):
            return max(i - 1, 0) if i and lines[i - 1].strip() else i
    return len(lines)


def _header_follows(lines: list[str], i: int) -> bool:
    window = lines[i + 1 : i + 5]
    return sum(1 for line in window if _HEADER_LINE.match(line)) >= 1


def _sender_tokens(sender_name: str | None, sender_email: str | None) -> frozenset[str]:
    parsed = names.parse_display_name(sender_name, sender_email) if sender_name else None
    if parsed is None and sender_email:
        parsed = names.name_from_local_part(sender_email.rsplit("@", 1)[0].lower())
    if parsed is None:
        return frozenset()
    tokens = {parsed.first, parsed.last}
    return frozenset(t.casefold().strip(".") for t in tokens if len(t.strip(".")) >= 2)


def _find_block(
    own: list[str], sender: frozenset[str], rules: SignatureRules
) -> tuple[int, int] | None:
    nonblank = [i for i, line in enumerate(own) if line.strip()]
    postscript = next((k for k, i in enumerate(nonblank) if _PS.match(own[i])), None)
    nonblank = nonblank[:postscript] if postscript is not None else nonblank
    if not nonblank:
        return None
    end = nonblank[-1]
    tail = _tail_region(own, nonblank, rules)
    if _machine_made(own, tail):
        return None
    anchor = _delimiter(own, tail) or _first_anchor(own, tail, sender, end, rules)
    if anchor is None:
        return None
    return anchor, end


def _tail_region(own: list[str], nonblank: list[int], rules: SignatureRules) -> list[int]:
    """The trailing non-blank lines short enough to belong to a signature."""
    region: list[int] = []
    for i in reversed(nonblank):
        if len(own[i].strip()) > rules.max_line_len or len(region) >= rules.max_lines:
            break
        region.append(i)
    return region[::-1]


def _machine_made(own: list[str], tail: list[int]) -> bool:
    """A tail of report lines (numeric columns, page counters, run stamps) is no signature."""
    reports = sum(1 for i in tail if _is_report_line(own[i]))
    return reports >= 2 and reports * 2 >= len(tail)


def _is_report_line(line: str) -> bool:
    cells = [c for c in re.split(r"\s+", line.strip()) if c]
    numeric = sum(1 for c in cells if _NUMBER.fullmatch(c.strip("()")))
    return numeric >= 3 or _REPORT_LINE.search(line) is not None


def _delimiter(own: list[str], tail: list[int]) -> int | None:
    """The line after a `-- ` delimiter, or after a drawn separator (`_____`, `-----`) that
    closes the message (the quoted-history check already took the ones a header follows)."""
    for pos, i in enumerate(tail):
        line = own[i].rstrip()
        if pos + 1 < len(tail) and (line in {"--", "-- "} or _RULE_LINE.match(line)):
            return tail[pos + 1]
    return None


def _first_anchor(
    own: list[str], tail: list[int], sender: frozenset[str], end: int, rules: SignatureRules
) -> int | None:
    for pos, i in enumerate(tail):
        text = own[i].strip()
        if len(text) > rules.max_anchor_len:
            continue
        signoff = _SIGNOFF.match(text)
        if signoff and (signoff.group("rest") or i != end) and _signoff_ok(own, tail, pos, rules):
            return i
        if _mentions_sender(text, sender):
            return i
        if pos >= len(tail) - rules.lone_name_window and _lone_name(own, tail, pos):
            return i
    return None


def _signoff_ok(own: list[str], tail: list[int], pos: int, rules: SignatureRules) -> bool:
    """A sign-off must be followed by a short name-ish line, not by more prose."""
    rest = _SIGNOFF.match(own[tail[pos]].strip())
    if rest and rest.group("rest").strip(" ,.!"):
        return _NAMELIKE.match(rest.group("rest").strip(" ,!")) is not None
    if pos + 1 >= len(tail):
        return False
    following = own[tail[pos + 1]].strip()
    return len(following) <= rules.max_anchor_len and not following.endswith(("?", ":"))


def _mentions_sender(text: str, sender: frozenset[str]) -> bool:
    if not sender or len(text.split()) > 5:
        return False
    words = {w.casefold().strip(".,!-") for w in re.split(r"[\s,]+", text)}
    squashed = re.sub(r"\W", "", text).casefold()
    return bool(words & sender) or (len(sender) == 2 and squashed in _concat(sender))


def _concat(sender: frozenset[str]) -> set[str]:
    a, b = sorted(sender)
    return {a + b, b + a}


def _lone_name(own: list[str], tail: list[int], pos: int) -> bool:
    """A 1-3 word capitalised line after a paragraph break, not inside a list of names."""
    i = tail[pos]
    text = own[i].strip()
    if not _NAMELIKE.match(text) or _SIGNOFF.match(text):
        return False
    if _INITIALS.match(text) or _TITLE_NOUNS.search(text):  # "JB", "Q3 Budget Summary"
        return False
    if i == 0 or own[i - 1].strip():
        prev = own[i - 1].strip() if i else ""
        if not prev.endswith((".", "!", "?", ",")) or _NAMELIKE.match(prev):
            return False
    return not (pos > 0 and _NAMELIKE.match(own[tail[pos - 1]].strip()))


def _region_for(sender_email: str | None, default_region: str) -> str:
    if sender_email and "." in sender_email:
        tld = sender_email.rsplit(".", 1)[-1].strip(" >").upper()
        tld = "GB" if tld == "UK" else tld
        if len(tld) == 2 and tld in phonenumbers.SUPPORTED_REGIONS:
            return tld
    return default_region


def _build(lines: list[str], start: int, end: int, region: str) -> Signature:
    block = lines[start : end + 1]
    numbers = tuple(start + k for k, line in enumerate(block) if line.strip())
    cells = [c.strip() for line in block for c in _CELL_SPLIT.split(line.strip()) if c.strip()]
    body_cells = cells[1:] if cells and _SIGNOFF.match(cells[0]) and len(cells) > 1 else cells
    urls = [u.rstrip(".,;") for u in _URL.findall("\n".join(block))]
    return Signature(
        start_line=start,
        end_line=end,
        text="\n".join(block),
        name=_name_cell(body_cells),
        title=_first(body_cells, _TITLE_WORDS),
        company=_first(body_cells, _COMPANY_WORDS, exclude=_TITLE_WORDS),
        phones=_phones(block, region),
        emails=tuple(dict.fromkeys(e.lower() for e in _EMAIL.findall("\n".join(block)))),
        website=_pick_url(urls, exclude=("linkedin.", "twitter.", "x.com/", "github.")),
        linkedin=_pick_url(urls, include=("linkedin.",)),
        twitter=_pick_url(urls, include=("twitter.com/", "x.com/")),
        github=_pick_url(urls, include=("github.com/",)),
        postal_address=_postal(cells),
        line_numbers=numbers,
    )


def _name_cell(cells: list[str]) -> str | None:
    for cell in cells[:2]:
        rest = _SIGNOFF.match(cell)
        candidate = rest.group("rest").strip(" ,.!") if rest else cell
        if candidate and _NAMELIKE.match(candidate):
            return candidate
    return None


def _first(
    cells: list[str], pattern: re.Pattern[str], exclude: re.Pattern[str] | None = None
) -> str | None:
    for cell in cells:
        if _EMAIL.search(cell) or _URL.search(cell) or any(ch.isdigit() for ch in cell[:3]):
            continue
        if pattern.search(cell) and not (exclude and exclude.search(cell)):
            return cell
    return None


def _phones(block: list[str], region: str) -> tuple[Phone, ...]:
    found: dict[str, Phone] = {}
    for line in block:
        for match in phonenumbers.PhoneNumberMatcher(line, region):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            context = line[max(0, match.start - 12) : match.start] + " " + line[match.end :][:12]
            found.setdefault(e164, Phone(e164=e164, kind=_kind(context)))
    return tuple(found.values())


def _kind(context: str) -> PhoneKind:
    for kind, pattern in _KIND_LABELS:
        if pattern.search(context):
            return PhoneKind(kind)
    return PhoneKind.UNKNOWN


def _pick_url(
    urls: list[str], include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> str | None:
    for url in urls:
        lowered = url.lower()
        if include and not any(part in lowered for part in include):
            continue
        if any(part in lowered for part in exclude):
            continue
        return url
    return None


def _postal(cells: list[str]) -> str | None:
    parts = [c for c in cells if _POSTAL.search(c) and not _EMAIL.search(c)]
    return ", ".join(parts) if parts else None
