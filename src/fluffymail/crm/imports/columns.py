"""Which field each column of an imported CSV holds, read from its header: FluffyMail's own
export, and the headers Google Contacts, Outlook and HubSpot exports use. Pure.

A header is compared lower-cased with everything but letters and digits turned into single
spaces ("E-mail 1 - Value" reads "e mail 1 value").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["contacts", "companies"]
REPEATABLE = frozenset({"email", "phone", "tags", "notes"})
"""Fields several columns may feed: the first email found is the address; phones, tags and
notes from every such column are kept."""

_CONTACT_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e mail", "email address", "e mail address", "mail", "primary email",
        "work email", "personal email", "email 1", "email 1 value", "e mail 1 value",
        "e mail 2 address", "e mail 3 address", "email 2 value", "e mail 2 value",
        "email 2", "other email",
    ),
    "name": ("name", "full name", "display name", "contact name", "contact"),
    "first_name": ("first name", "given name", "firstname", "first"),
    "last_name": ("last name", "family name", "surname", "lastname", "last"),
    "company": (
        "company", "company name", "organization", "organisation", "organization name",
        "organization 1 name", "associated company", "employer",
    ),
    "company_domain": ("company domain", "company domain name", "domain", "company website"),
    "title": ("job title", "title", "position", "role", "organization title",
              "organization 1 title"),
    "phone": (
        "phone", "phone number", "mobile", "mobile phone", "mobile phone number", "cell",
        "cell phone", "business phone", "business phone 2", "home phone", "home phone 2",
        "work phone", "primary phone", "other phone", "telephone", "tel", "phone 1 value",
        "phone 2 value", "phone 3 value", "company main phone",
    ),
    "tags": ("tags", "tag", "labels", "categories", "group membership", "groups"),
    "notes": ("notes", "note", "comments"),
}  # fmt: skip
_COMPANY_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "company", "company name", "organization", "organisation",
             "organization name"),
    "company_domain": ("domain", "company domain", "company domain name", "company_domain"),
    "website": ("website", "web site", "url", "website url", "company website", "homepage"),
    "tags": ("tags", "tag", "labels", "categories"),
    "notes": ("notes", "note", "comments", "description"),
}  # fmt: skip
FIELDS: dict[Kind, tuple[str, ...]] = {
    "contacts": tuple(_CONTACT_ALIASES),
    "companies": tuple(_COMPANY_ALIASES),
}
_LOOKUP: dict[Kind, dict[str, str]] = {
    kind: {alias: field for field, aliases in table.items() for alias in aliases}
    for kind, table in (("contacts", _CONTACT_ALIASES), ("companies", _COMPANY_ALIASES))
}
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One column of the file: its header as written and the field it feeds (None: ignored)."""

    index: int
    header: str
    field: str | None


def normalise(header: str) -> str:
    return _NOT_WORD.sub(" ", header.lower().replace("\ufeff", "")).strip()


def map_header(header: list[str], kind: Kind) -> list[Column]:
    """The field of each column. A field that is not repeatable is read from its first column
    only. Outlook's "Title" (Mr, Ms) is ignored when the file has a "Job Title" column."""
    lookup = _LOOKUP[kind]
    names = [normalise(h) for h in header]
    has_job_title = "job title" in names
    taken: set[str] = set()
    columns = []
    for index, (raw, name) in enumerate(zip(header, names, strict=True)):
        field = lookup.get(name) or lookup.get(name.replace(" ", "_"))
        if name == "title" and has_job_title and kind == "contacts":
            field = None
        if field is not None and field not in REPEATABLE:
            field = None if field in taken else field
            taken.add(field or "")
        columns.append(Column(index=index, header=raw.strip(), field=field))
    return columns
