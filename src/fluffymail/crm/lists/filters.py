"""The filter language of saved views: `tag:Investors level:strong cold:yes people:external
company:acme.com` plus free words (a search of names, addresses and company names). Parsing is
pure: names (a tag, a company's domain) are resolved when the view is opened.

Values with spaces are quoted: `tag:"Going cold"`. Each key may appear once.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from fluffymail.errors import FluffyMailError

LEVELS = ("very strong", "strong", "moderate", "weak", "very weak", "no connection")
YES_NO = {"yes": True, "true": True, "no": False, "false": False}
PEOPLE = {"internal": True, "colleagues": True, "external": False, "outside": False}
KEYS = ("tag", "level", "cold", "people", "company")
MAX_LENGTH = 1000


class FilterError(FluffyMailError):
    """The filter does not parse."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ListFilter:
    """A parsed filter; None = not filtered on that."""

    search: str | None = None
    tag: str | None = None
    level: str | None = None
    going_cold: bool | None = None
    internal: bool | None = None
    company: str | None = None  # a registrable domain


def parse(text: str) -> ListFilter:
    """The filter `text` means; `FilterError` saying what is wrong when it does not parse."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"a filter can be at most {MAX_LENGTH} characters")
    try:
        terms = shlex.split(text, posix=True)
    except ValueError:
        raise FilterError("a quote in the filter is not closed") from None
    words: list[str] = []
    found: dict[str, str] = {}
    for term in terms:
        key, sep, value = term.partition(":")
        if not sep or " " in key:
            words.append(term)
            continue
        _check_term(key.lower(), value.strip(), found)
        found[key.lower()] = value.strip()
    return _filter(" ".join(words), found)


def _check_term(key: str, value: str, found: dict[str, str]) -> None:
    if key not in KEYS:
        raise FilterError(f"unknown filter “{key}:”; use {', '.join(k + ':' for k in KEYS)}")
    if key in found:
        raise FilterError(f"“{key}:” can be given once")
    if not value:
        raise FilterError(f"“{key}:” needs a value")


def _filter(search: str, found: dict[str, str]) -> ListFilter:
    level = found.get("level", "").lower() or None
    if level is not None and level not in LEVELS:
        raise FilterError(f"level must be one of: {', '.join(LEVELS)}")
    cold = _choice(found, "cold", YES_NO)
    people = _choice(found, "people", PEOPLE)
    company = found.get("company", "").lower() or None
    if company is not None and ("." not in company or "@" in company):
        raise FilterError("company: takes a domain, as in company:acme.com")
    return ListFilter(
        search=search or None,
        tag=found.get("tag"),
        level=level,
        going_cold=cold,
        internal=people,
        company=company,
    )


def _choice(found: dict[str, str], key: str, allowed: dict[str, bool]) -> bool | None:
    value = found.get(key)
    if value is None:
        return None
    if value.lower() not in allowed:
        raise FilterError(f"{key}: must be one of: {', '.join(allowed)}")
    return allowed[value.lower()]


def render(f: ListFilter) -> str:
    """The text of a filter (parse(render(f)) == f), e.g. to save the list's current view."""
    terms = []
    if f.tag:
        terms.append(f"tag:{_quote(f.tag)}")
    if f.level:
        terms.append(f"level:{_quote(f.level)}")
    if f.going_cold is not None:
        terms.append(f"cold:{'yes' if f.going_cold else 'no'}")
    if f.internal is not None:
        terms.append(f"people:{'internal' if f.internal else 'external'}")
    if f.company:
        terms.append(f"company:{f.company}")
    if f.search:
        terms.append(_quote(f.search) if ":" in f.search else f.search)
    return " ".join(terms)


def _quote(value: str) -> str:
    return shlex.quote(value) if any(c in value for c in " \"'\\:") else value
