r"""The filter language of saved views: `tag:Investors level:strong cold:yes people:external
company:acme.com` plus free words (a search of names, addresses and company names). Parsing is
pure: names (a tag, a company's domain) are resolved when the view is opened.

Values with spaces are quoted: `tag:"Going cold"` (or `'Going cold'`; in double quotes, `\"`
and `\\` stand for `"` and `\`). A quote opens a phrase only at the start of a word or a
value, and ends at the same quote followed by a space, the end or another phrase: an apostrophe
inside a word (o'brien, d'Arcy, it's) is a letter, and so is one that opens nothing (`'tis`).
Each key may appear once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fluffymail.crm import text as text_rules
from fluffymail.errors import FluffyMailError

LEVELS = ("very strong", "strong", "moderate", "weak", "very weak", "no connection")
YES_NO = {"yes": True, "true": True, "no": False, "false": False}
PEOPLE = {"internal": True, "colleagues": True, "external": False, "outside": False}
KEYS = ("tag", "level", "cold", "people", "company")
MAX_LENGTH = 1000
QUOTES = "\"'"


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
    words: list[str] = []
    found: dict[str, str] = {}
    for term in _terms(text):
        if term.key is None:
            words.append(term.value)
            continue
        key, value = term.key.lower(), term.value.strip()
        _check_term(key, value, found)
        found[key] = value
    return _filter(" ".join(words), found)


@dataclass(frozen=True, slots=True)
class _Term:
    """A `key:value` term (`key` as written) or a free word (`key` None), and where its value
    is in the text."""

    key: str | None
    value: str
    value_start: int
    end: int


def _terms(text: str) -> list[_Term]:
    terms: list[_Term] = []
    at = _skip_spaces(text, 0)
    while at < len(text):
        key, value_start = _key(text, at)
        value, end = _value(text, value_start)
        terms.append(_Term(key, value, value_start, end))
        at = _skip_spaces(text, end)
    return terms


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _key(text: str, at: int) -> tuple[str | None, int]:
    """The key of the term at `at` (None for a free word) and where its value starts: a key is
    what an unquoted term has before its first colon."""
    if text[at] in QUOTES:
        return None, at
    end = at
    while end < len(text) and not text[end].isspace() and text[end] != ":":
        end += 1
    if end < len(text) and text[end] == ":":
        return text[at:end], end + 1
    return None, at


def _value(text: str, at: int) -> tuple[str, int]:
    """The value starting at `at` and where it ends: quoted phrases, else the letters up to the
    next space. An opening apostrophe that closes nothing is a letter; a double quote is not."""
    if at < len(text) and text[at] in QUOTES:
        if (quoted := _phrases(text, at)) is not None:
            return quoted
        if text[at] == '"':
            raise FilterError("a quote in the filter is not closed")
    end = at
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[at:end], end


def _phrases(text: str, at: int) -> tuple[str, int] | None:
    """Quoted phrases side by side (`'Bob'"'"'s'` is Bob's), None when one is not closed."""
    parts: list[str] = []
    while at < len(text) and text[at] in QUOTES:
        phrase = _phrase(text, at)
        if phrase is None:
            return None
        part, at = phrase
        parts.append(part)
    return "".join(parts), at


def _phrase(text: str, at: int) -> tuple[str, int] | None:
    quote, i = text[at], at + 1
    chars: list[str] = []
    while i < len(text):
        c = text[i]
        if quote == '"' and c == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            chars.append(text[i + 1])
            i += 2
            continue
        if c == quote and (i + 1 == len(text) or text[i + 1].isspace() or text[i + 1] in QUOTES):
            return "".join(chars), i + 1
        chars.append(c)
        i += 1
    return None


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
    tag = text_rules.clean_name(found["tag"]) if "tag" in found else None
    if tag == "":
        raise FilterError("“tag:” needs a value")
    return ListFilter(
        search=search or None,
        tag=tag,
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
        terms.append(f"company:{_quote(f.company)}")
    if f.search:
        terms.append(f.search if _reads_as_words(f.search) else _quoted(f.search))
    return " ".join(terms)


def rename_tag(text: str, old: str, new: str) -> str | None:
    """`text` with its `tag:` term naming `old` (ignoring case, as tags are found) naming `new`
    instead, the rest as written; None when it names no such tag (or would grow too long)."""
    try:
        terms = _terms(text)
    except FilterError:
        return None
    for term in terms:
        if (term.key or "").lower() == "tag" and _same_name(term.value, old):
            renamed = text[: term.value_start] + _quote(new) + text[term.end :]
            return renamed if len(renamed) <= MAX_LENGTH else None
    return None


def _same_name(value: str, name: str) -> bool:
    """Whether a `tag:` value names the tag `name`, as a lookup finds it (ignoring case)."""
    return text_rules.clean_name(value).lower() == text_rules.clean_name(name).lower()


def _reads_as_words(search: str) -> bool:
    """Whether `search` written as it is parses back to the same free words."""
    try:
        terms = _terms(search)
    except FilterError:
        return False
    return all(t.key is None for t in terms) and " ".join(t.value for t in terms) == search


def _quote(value: str) -> str:
    plain = value and value[0] not in QUOTES and not any(c.isspace() for c in value)
    return value if plain else _quoted(value)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
