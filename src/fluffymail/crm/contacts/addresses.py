"""Email address normalisation: one canonical, lower-case form per mailbox, or None for junk.

Also recognises legacy non-routable forms (Exchange DNs, Lotus Notes names, IMCEANOTES
encapsulation) and pulls the person's name out of them. Pure: imports only the stdlib and
email-validator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

__all__ = [
    "DEFECTS",
    "LOST_PART",
    "NormalizedAddress",
    "address_defect",
    "decode_imceanotes",
    "is_non_routable",
    "legacy_display_name",
    "normalize_address",
    "split_address_list",
    "split_legacy_names",
]

_MAX_ADDRESS_LEN = 320  # RFC 3696 errata: 64 + 1 + 255
_STRIP_CHARS = " \t\r\n\"'<>`;,"
_EXCHANGE_DN = re.compile(r"/O=[^/<>]+/OU=", re.IGNORECASE)
_EXCHANGE_CN = re.compile(r"/CN=([^/<>]+)\s*>?\s*$", re.IGNORECASE)
# "Phillip K Allen/HOU/ECT@ECT", "Tim Belden/HOU/ECT", "Jeff Dasovich/NA/Enron@Enron"
_NOTES_NAME = re.compile(
    r"^\s*([^/<>@]+?)\s*/\s*[A-Za-z0-9&.\- ]+(?:/[A-Za-z0-9&.\- ]+)*(?:@[\w.\-]+)?\s*$"
)
_IMCEANOTES = re.compile(r"^IMCEANOTES-(.+)@[^@]+$", re.IGNORECASE)
_IMCEA_HEX = re.compile(r"\+([0-9A-Fa-f]{2})")
_ANGLE = re.compile(r"<([^<>]*)>")
_LEGACY_ENTRY = re.compile(r"\s*([^<>,][^<>]*?)?\s*<[^<>]*>\s*(?:,|$)")
_MAILTO_BRACKET = re.compile(r"\[mailto:([^\]]*)\]", re.IGNORECASE)
_NOTES_DOMAIN_TAIL = re.compile(r"@(?:ENRON|ECT|EES|ENRON_DEVELOPMENT|NOTES)\s*$", re.IGNORECASE)
# Defects old mail systems leave in a local part (issue 12): `.williams@` (a name part lost
# before the dot), `carol.st.@` (cut short), `k..allen@` (an initial lost between dots).
DEFECTS = ("leading_dot", "trailing_dot", "doubled_dot")
LOST_PART = frozenset(DEFECTS[:2])  # not a valid address: kept only on request (keep_damaged)


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedAddress:
    """A syntactically valid address, lower-cased, domain in Unicode (IDNA decoded)."""

    email: str
    local: str
    domain: str
    ascii_domain: str
    defect: str | None = None  # one of DEFECTS when the address is damaged but kept as written


def normalize_address(raw: str | None, *, keep_damaged: bool = False) -> NormalizedAddress | None:
    """Canonicalise one address as found in a header; None for junk or non-routable forms.

    Strips whitespace, quotes, ``<>``, a ``mailto:`` prefix and trailing dots, lower-cases,
    decodes IMCEANOTES encapsulation when it wraps a real address, and writes IDN domains in
    their Unicode form. Syntax is checked with email-validator (no DNS). Doubled dots in the
    local part (``k..allen@enron.com``, Exchange export damage) are tolerated because the
    address is still a stable identity key.

    Args:
        raw: the address text, e.g. ``"<Phillip.Allen@Enron.com>."``.
        keep_damaged: also return addresses whose local part starts or ends with a dot
            (``.williams@enron.com``, ``carol.st.@enron.com``), as written, with `defect`
            set: they are still one mailbox's stable key, and their people matter.

    Returns:
        The normalized address, or None for junk, display-name-only values, Exchange DNs and
        Notes names (use `legacy_display_name` to get the person out of those).
    """
    if not raw or not isinstance(raw, str) or len(raw) > 4 * _MAX_ADDRESS_LEN:
        return None
    return _normalize_cached(raw, keep_damaged)


@lru_cache(maxsize=65536)
def _normalize_cached(raw: str, keep_damaged: bool) -> NormalizedAddress | None:
    text = _clean(raw)
    if not text or is_non_routable(text):
        inner = decode_imceanotes(text) if text else None
        return _validate(inner, keep_damaged) if inner else None
    return _validate(text, keep_damaged)


def _clean(raw: str) -> str:
    text = raw.strip()
    angle = _ANGLE.findall(text) or _MAILTO_BRACKET.findall(text)
    if angle and "@" in angle[-1]:
        text = angle[-1]
    text = text.strip(_STRIP_CHARS)
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip(_STRIP_CHARS).rstrip(".").strip(_STRIP_CHARS)


def _validate(text: str, keep_damaged: bool = False) -> NormalizedAddress | None:
    if len(text) > _MAX_ADDRESS_LEN or text.count("@") != 1 or any(c.isspace() for c in text):
        return None
    local, _, domain = text.lower().partition("@")
    defect = address_defect(f"{local}@{domain}")
    if not local.strip(".") or (defect in LOST_PART and not keep_damaged):
        return None
    probe = re.sub(r"\.{2,}", ".", local).strip(".")  # validate k..allen / .hall as k.allen / hall
    try:
        result = validate_email(f"{probe}@{domain}", check_deliverability=False)
    except (EmailNotValidError, UnicodeError, ValueError):
        return None
    uni_domain = result.domain.lower()
    return NormalizedAddress(
        email=f"{local}@{uni_domain}",
        local=local,
        domain=uni_domain,
        ascii_domain=result.ascii_domain.lower(),
        defect=defect,
    )


def address_defect(email: str) -> str | None:
    """Which of DEFECTS an address's local part shows (the first found), or None."""
    local = email.rpartition("@")[0]
    if local.startswith("."):
        return "leading_dot"
    if local.endswith("."):
        return "trailing_dot"
    return "doubled_dot" if ".." in local else None


def is_non_routable(raw: str) -> bool:
    """True for Exchange DNs, Lotus Notes names and IMCEANOTES-encapsulated addresses."""
    text = raw.strip().strip("<>\"' ")
    if _EXCHANGE_DN.search(text) or text.upper().startswith("/O="):
        return True
    if _IMCEANOTES.match(text):
        return True
    if "/" in text.partition("@")[0] and _NOTES_NAME.match(text):
        return True
    return bool(_NOTES_DOMAIN_TAIL.search(text) and " " in text)


def decode_imceanotes(raw: str) -> str | None:
    """Unwrap ``IMCEANOTES-ROBARY+40cs+2Ecom+40ENRON@ENRON.com`` to ``ROBARY@cs.com``.

    Returns the decoded inner text with a trailing Notes domain (``@ENRON``) removed, or None
    when the value is not IMCEANOTES-encapsulated.
    """
    match = _IMCEANOTES.match(raw.strip().strip("<>\"' "))
    if not match:
        return None
    inner = _IMCEA_HEX.sub(lambda m: chr(int(m.group(1), 16)), match.group(1))
    return _NOTES_DOMAIN_TAIL.sub("", inner).strip()


def legacy_display_name(raw: str | None) -> str | None:
    """The person or role name inside a non-routable legacy form, as written.

    ``Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>`` -> ``Allen, Phillip K.``;
    ``Phillip K Allen/HOU/ECT@ECT`` -> ``Phillip K Allen``;
    ``IMCEANOTES-Corporate+20Benefits+40ENRON@ENRON.com`` -> ``Corporate Benefits``.
    Returns None when nothing name-like is found.
    """
    if not raw:
        return None
    text = raw.strip()
    angle = _ANGLE.search(text)
    if angle and is_non_routable(angle.group(1)):
        before = _NOTES_DOMAIN_TAIL.sub("", text[: angle.start()]).strip(" \"'")
        return before or legacy_display_name(angle.group(1))
    inner = decode_imceanotes(text)
    if inner is not None:
        return None if "@" in inner else (inner or None)
    notes = _NOTES_NAME.match(text.strip("<>\"' "))
    if notes and "/" in text:
        return notes.group(1).strip(" \"'") or None
    tail = _NOTES_DOMAIN_TAIL.search(text)
    if tail:
        name = text[: tail.start()].strip(" \"'")
        return name if name and "@" not in name else None
    return None


def split_address_list(header: str | None, *, limit: int = 50_000) -> list[tuple[str, str]]:
    """Split an address-list header into ``(display_name, address)`` pairs, in order.

    A thin, bounded wrapper over `email.utils.getaddresses`: at most ``limit`` entries are
    returned so a pathological header cannot blow up memory downstream.
    """
    if not header:
        return []
    pairs = getaddresses([header])
    return [(name.strip(), addr.strip()) for name, addr in pairs[:limit] if name or addr]


def split_legacy_names(text: str | None) -> list[str]:
    """Split an ``X-To``/``X-cc`` value into one entry per recipient, in order; [] if unsure.

    Exchange and Notes exports write ``Hall, Steve C. </O=ENRON/...>, Belden, Tim </O=...>``:
    every entry ends in ``<...>``, so commas inside names do not split them. A value without
    brackets is split on commas only when no entry could be half of a ``Last, First`` name
    (each entry holds a space or a Notes ``/``).
    """
    if not text or not text.strip():
        return []
    if "<" in text:
        entries, end = [], 0
        for match in _LEGACY_ENTRY.finditer(text):
            if match.start() != end:
                return []
            entries.append(match.group(0).strip().rstrip(",").strip())
            end = match.end()
        return entries if end == len(text) else []
    parts = [p.strip() for p in text.split(",")]
    if all(p and (" " in p or "/" in p) for p in parts):
        return parts
    return []
