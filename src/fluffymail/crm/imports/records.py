"""One imported record (a CSV row or a vCard) checked and cleaned into the row FluffyMail
stores, or the reason it is left out. Pure: email-validator, phonenumbers and the Public
Suffix List only.

Addresses are checked with email-validator and kept in FluffyMail's canonical form; an address
an old mail system damaged (`.hall@`, `carol.st.@`, `k..allen@`: `addresses.DEFECTS`) is kept as
written with its defect, as extraction keeps it from mail, and the row says so; phone
numbers are checked with phonenumbers (a number without a country code needs the import's
default country) and kept in the international format; a company's domain is its
registrable domain (the address's own when the file names a company and no domain).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, syntax, validate_email

from fluffymail.crm import text as text_rules
from fluffymail.crm.contacts import addresses
from fluffymail.crm.contacts import companies as company_rules
from fluffymail.crm.imports.columns import Kind

NAME_MAX = 200
TAG_MAX = 40
TAGS_PER_ROW = 50
PHONES_PER_ROW = 20
NOTE_MAX_BYTES = 100_000
NOTE_SEPARATOR = "\n\n---\n\n"
"""Between a record's notes in an export; an imported notes cell is split on it."""
_TAG_SPLIT = re.compile(r"\s*(?:;|,|:::)\s*")
_PHONE_SPLIT = re.compile(r"\s*(?:;|:::)\s*")
_CONTROL = re.compile(r"[\x00-\x1f]")
_PLAIN = re.compile(r"^[a-z0-9._%+'-]{1,64}@[a-z0-9.-]{1,253}$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z][a-z0-9-]{1,62}$")
_DAMAGE = {
    "leading_dot": "it starts with a dot: a part before it was lost",
    "trailing_dot": "a dot ends it before the @: it was cut short",
    "doubled_dot": "it has two dots in a row: a part between them was lost",
}


class Refused(Exception):
    """The record cannot be imported; the message says why, for people."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """A record left out (or, for a warning, imported in part or with a value kept as it
    was) and why."""

    row: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportRow:
    """A record as it is staged for the import (crm.import_rows)."""

    row_no: int
    address: str | None = None
    address_defect: str | None = None  # one of addresses.DEFECTS: kept as written
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    name_quality: int = 0
    company: str = ""
    company_domain: str | None = None
    company_given: bool = False
    website: str | None = None
    title: str = ""
    phones: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Checked:
    """Every record of a file: the good rows, the problems (rows left out) and the warnings
    (good rows with a value kept as it was), in file order."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    total: int = 0


Values = Mapping[str, Sequence[str]]
"""A raw record: each field's cells (or vCard values), as written."""


def check_all(records: Sequence[tuple[int, Values]], kind: Kind, region: str | None) -> Checked:
    """Check every record; a record repeating an earlier one's address (or domain) is refused."""
    checked, seen = Checked(), dict[str, int]()
    for row_no, values in records:
        checked.total += 1
        try:
            row = check_record(row_no, values, kind, region)
            key = row.address if kind == "contacts" else row.company_domain
            assert key is not None
            if key in seen:
                raise Refused(f"{key} is already on row {seen[key]} of this file")
            seen[key] = row_no
            checked.rows.append(row)
            if row.address_defect:
                checked.warnings.append(Problem(row=row_no, reason=damaged_note(row)))
        except Refused as exc:
            checked.problems.append(Problem(row=row_no, reason=str(exc)))
    return checked


def damaged_note(row: ImportRow) -> str:
    """What the import says of a row whose address is damaged but kept."""
    why = _DAMAGE.get(row.address_defect or "", "it is damaged")
    return (
        f"“{row.address}” is not a valid address ({why}); imported as written and marked "
        "damaged, as FluffyMail keeps such addresses from mail"
    )


def check_record(row_no: int, values: Values, kind: Kind, region: str | None) -> ImportRow:
    """The record cleaned; `Refused` with the first reason it cannot be imported."""
    tags = _tags(values.get("tags", ()))
    notes = _notes(values.get("notes", ()))
    if kind == "companies":
        return _company(row_no, values, tags, notes)
    address, defect = _address(values.get("email", ()))
    name, first, last, quality = _name(values)
    company = _text(_first(values.get("company", ())), "the company", NAME_MAX)
    explicit = _first(values.get("company_domain", ()))
    domain = _domain(explicit) if explicit else None
    if domain is None:
        domain = _company_of(address.rpartition("@")[2])
    return ImportRow(
        row_no=row_no,
        address=address,
        address_defect=defect,
        name=name,
        first_name=first,
        last_name=last,
        name_quality=quality,
        company=company,
        company_domain=domain,
        company_given=bool(company or explicit),
        title=_text(_first(values.get("title", ())), "the title", NAME_MAX),
        phones=_phones(values.get("phone", ()), region),
        tags=tags,
        notes=notes,
    )


def _company(row_no: int, values: Values, tags: tuple[str, ...], notes: tuple[str, ...]):
    name = _text(_first(values.get("name", ())), "the name", NAME_MAX)
    website = _first(values.get("website", ()))
    given = _first(values.get("company_domain", ())) or website
    if not given:
        raise Refused("no domain or website: a company is known by its domain, as in acme.com")
    domain = _domain(given)
    link = website if website.startswith(("http://", "https://")) else None
    if website and link is None:
        link = f"https://{website}" if _domain(website) else None
    return ImportRow(
        row_no=row_no,
        name=name or company_rules.company_name_from_domain(domain),
        company=name,
        company_domain=domain,
        website=link[:500] if link else None,
        tags=tags,
        notes=notes,
    )


def _first(cells: Sequence[str]) -> str:
    return next((" ".join(c.split()) for c in cells if c and c.strip()), "")


def _text(value: str, what: str, limit: int) -> str:
    if len(value) > limit:
        raise Refused(f"{what} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise Refused(f"{what} holds control characters")
    return value


def _address(cells: Sequence[str]) -> tuple[str, str | None]:
    """The address in FluffyMail's form and its defect: a damaged one is kept as extraction
    keeps it (`keep_damaged`), so an export of such a contact reads back."""
    raw = _first(cells)
    if not raw:
        raise Refused("no email address (a contact is matched by its address)")
    if (fast := _plain_address(raw)) is not None:
        return fast, None
    found = addresses.normalize_address(raw, keep_damaged=True)
    if found is None:
        try:
            validate_email(raw.strip(), check_deliverability=False)
        except (EmailNotValidError, UnicodeError, ValueError) as exc:
            raise Refused(f"“{raw[:80]}” is not an email address: {exc}") from None
        raise Refused(f"“{raw[:80]}” is not an email address")
    return found.email, found.defect


def _plain_address(raw: str) -> str | None:
    """A plain ASCII address checked the way email-validator checks it, its domain once per
    file (most of a file's addresses share a few domains); None for anything else (quotes,
    brackets, Unicode, junk), which takes the full path."""
    text = raw.strip().lower()
    if not _PLAIN.match(text):
        return None
    local, _, domain = text.partition("@")
    try:
        syntax.validate_email_local_part(local, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    checked = _checked_domain(domain)
    return f"{local}@{checked}" if checked else None


@lru_cache(maxsize=65536)
def _checked_domain(domain: str) -> str | None:
    try:
        return validate_email(f"x@{domain}", check_deliverability=False).domain.lower()
    except (EmailNotValidError, UnicodeError, ValueError):
        return None


@lru_cache(maxsize=65536)
def _company_of(domain: str) -> str | None:
    found = company_rules.company_domain(f"x@{domain}")
    return found.domain if found else None


def _name(values: Values) -> tuple[str, str, str, int]:
    first = _text(_first(values.get("first_name", ())), "the first name", NAME_MAX)
    last = _text(_first(values.get("last_name", ())), "the last name", NAME_MAX)
    full = _text(_first(values.get("name", ())), "the name", NAME_MAX)
    if not (first or last):
        first, _, last = full.rpartition(" ") if " " in full else (full, "", "")
    full = full or " ".join(p for p in (first, last) if p)
    return full, first, last, 3 if first and last else 2 if full else 0


def _domain(value: str) -> str:
    host = value.strip().lower().removeprefix("https://").removeprefix("http://")
    host = host.split("/")[0].split("?")[0].removeprefix("www.")
    # A domain not under a public suffix (an intranet, .example) is taken as typed.
    found = company_rules.registrable_domain(host) or (host if _DOMAIN.match(host) else None)
    if found is None:
        raise Refused(f"“{value[:80]}” is not a company's domain (as in acme.com)")
    return found


def _phones(cells: Sequence[str], region: str | None) -> tuple[str, ...]:
    found: list[str] = []
    for cell in cells:
        for raw in _PHONE_SPLIT.split(cell.strip()):
            if raw and (number := _phone(raw, region)) not in found:
                found.append(number)
    if len(found) > PHONES_PER_ROW:
        raise Refused(f"more than {PHONES_PER_ROW} phone numbers")
    return tuple(found)


def _phone(raw: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(raw.removeprefix("tel:"), region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise Refused(
                f"phone “{raw[:40]}” has no country code: write it as +<country> … "
                "or choose the import's default country"
            ) from None
        raise Refused(f"phone “{raw[:40]}” is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise Refused(f"phone “{raw[:40]}” is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _tags(cells: Sequence[str]) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for cell in cells:
        for name in _TAG_SPLIT.split(cell.strip()):
            name = text_rules.clean_name(name)  # as a tag made on the page is named
            if not name or name.startswith("*"):  # Google's own labels: "* myContacts"
                continue
            if len(name) > TAG_MAX:
                raise Refused(f"the tag “{name[:60]}” is longer than {TAG_MAX} characters")
            found.setdefault(name.lower(), name)
    if len(found) > TAGS_PER_ROW:
        raise Refused(f"more than {TAGS_PER_ROW} tags")
    return tuple(found.values())


def _notes(cells: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    for cell in cells:
        for note in cell.replace("\r\n", "\n").split(NOTE_SEPARATOR):
            note = note.strip()
            if note and note not in found:
                if len(note.encode()) > NOTE_MAX_BYTES or "\x00" in note:
                    raise Refused(f"a note is longer than {NOTE_MAX_BYTES:,} bytes")
                found.append(note)
    return tuple(found)
