"""The words of a mail search that are part of an address (`pnm.com`, `@pnm.com`,
`jeff.dasovich`, `jdoe@`, a whole address) and where each sits in an address; pure, no SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# What splits an address into the parts a word may name: the local part's dots, underscores,
# pluses and hyphens, the @, the domain's dots (and its labels' hyphens).
SEPARATORS = ".@_+-"
_BOUNDARY = "[.@_+-]"
# Punctuation around a pasted or quoted address: "<jdoe@pnm.com>," or "(pnm.com)".
_AROUND = "\"'()<>[]{},;:!?"
# A word holds an address part when it has an @, a dot or an underscore inside a word, or
# starts with a dot (".gov"): PostgreSQL's parser keeps such a word whole ('pnm.com' a host,
# 'jeff.dasovich@enron.com' an email), so it never matches the address it is part of. Plain
# words are searched as they always were.
_ADDRESS_LIKE = re.compile(r"@|\w[._]\w|^\.\w")


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressWord:
    """`word` as typed (what websearch_to_tsquery reads of it), `fragment` the part of an
    address it names (lower case), `pattern` a regular expression finding that fragment in an
    address between part boundaries: `pnm.com` in `jdoe@pnm.com` and `bob@mail.pnm.com`, not in
    `jdoe@xpnm.com`; a leading @ names the whole domain, a trailing @ the whole local part.
    `negated` when a leading `-` leaves out what it finds."""

    word: str
    fragment: str
    pattern: str
    negated: bool = False


class Joined(StrEnum):
    """How a search's address words bind its matches (message_search.py's choice of plan)."""

    ALONE = "alone"  # address words only, by AND or OR: every match holds one of them
    AND = "and"  # with other words, by AND only: every match holds each one not negated
    OTHER = "other"  # an OR with other words: a match may hold none


def address_words(q: str) -> list[AddressWord]:
    """The address words of `q` (websearch syntax), each once, in order; none inside a quoted
    phrase (a phrase is searched as typed), a leading `-` (not) left to the query."""
    found: dict[str, AddressWord] = {}
    for raw in _outside_quotes(q):
        word = raw.lstrip("-")
        fragment = _fragment(word)
        if fragment and fragment not in found:
            found[fragment] = AddressWord(
                word=word,
                fragment=fragment,
                pattern=address_pattern(fragment),
                negated=raw.startswith("-"),
            )
    return list(found.values())


def joined(q: str) -> Joined:
    """How the address words of `q` are joined to the rest of it (an `or` anywhere counts as
    the operator, a phrase as another word)."""
    tokens = _outside_quotes(q)
    words = [t for t in tokens if t.lower() != "or"]
    if '"' not in q and words and all(not t.startswith("-") and _fragment(t) for t in words):
        return Joined.ALONE
    return Joined.OTHER if len(words) < len(tokens) else Joined.AND


def _outside_quotes(q: str) -> list[str]:
    """The whitespace-separated words of `q` outside websearch_to_tsquery's quotes."""
    return [raw for outside in q.split('"')[::2] for raw in outside.split()]


def _fragment(word: str) -> str | None:
    """The part of an address `word` names, lower case; None for any other word."""
    fragment = word.strip(_AROUND).rstrip(".").lower()
    if _ADDRESS_LIKE.search(fragment) and any(ch.isalnum() for ch in fragment):
        return fragment
    return None


def address_pattern(fragment: str) -> str:
    """A PostgreSQL regular expression: `fragment` (lower case) from a part boundary of an
    address to another. `re.escape` puts a backslash only before punctuation, which is that
    character itself in PostgreSQL's regular expressions too."""
    start = "" if fragment[0] in SEPARATORS else f"(^|{_BOUNDARY})"
    end = "" if fragment[-1] in SEPARATORS else f"($|{_BOUNDARY})"
    return start + re.escape(fragment) + end
