"""Person names from display names and address local parts, and choosing the best one.

Owns the rules "is this display name a person?" and "which of the names seen for an address
is the right one". Pure: stdlib, nameparser and the contacts data lists only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from nameparser import HumanName
from nameparser.config import CONSTANTS

from fluffymail.crm.contacts import addresses, automated
from fluffymail.crm.contacts._data import load_word_set

__all__ = [
    "NameQuality",
    "PersonName",
    "best_name",
    "handles_of",
    "is_handle_of",
    "is_made_of_name",
    "is_spelled_out",
    "middles_differ",
    "name_from_local_part",
    "parse_display_name",
    "suffixes_differ",
]

_ROLE_NAME_WORDS = load_word_set("role_name_words.txt")
_MAX_DISPLAY_LEN = 200
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOTES_DOMAIN_TAIL = re.compile(r"\s*@\s*[A-Za-z_]+\s*$")
# "Nichols, Lauren - T-DITT2", "Betonte, Robert - TP2RSB": a department code after the name
_DEPT_CODE_TAIL = re.compile(
    r"\s+-\s+[A-Z0-9][A-Z0-9\-]*\d[A-Z0-9\-]*$|\s+-\s+[A-Z]{2,}-[A-Z0-9\-]+$"
)
_LOCAL_SPLIT = re.compile(r"[._\-+]")
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?", re.UNICODE)
_NON_NAME_CHARS = re.compile(r"[0-9!?#$%&*=|:;/\\{}_@]")


class NameQuality(IntEnum):
    """How much a name can be trusted; higher is better."""

    DERIVED = 1  # guessed from the address local part
    PARTIAL = 2  # a display name with only a first or a last name
    FULL = 3  # a display name with first and last name


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonName:
    """A person's name, nicely cased. ``full`` is ``first [middle] last``."""

    first: str
    last: str
    full: str
    middle: str = ""
    quality: NameQuality = NameQuality.FULL

    @property
    def key(self) -> str:
        """Identity key ignoring case, dots and middle names: ``phillip allen``."""
        return f"{self.first} {self.last}".casefold().replace(".", "").strip()


@lru_cache(maxsize=65536)
def parse_display_name(display: str | None, email: str | None = None) -> PersonName | None:
    """Parse a header display name into a person name.

    Handles ``Last, First``, Exchange DN and Lotus Notes tails, quotes, a display name that
    is really an address, ALL CAPS / all-lower names and role names (``Enron Announcements``
    is not a person: None). With no usable display name, falls back to the address local
    part (``phillip.allen@`` -> Phillip Allen, quality DERIVED).

    Args:
        display: the display name as written in the header (may be None or empty).
        email: the participant's address, used for the fallback and to orient
            ``"Cheung  Joseph"``-style reversed names.
    """
    local = _local_part(email)
    cleaned = clean_display_name(display)
    if cleaned and "@" in cleaned:
        cleaned = ""  # "phillip.allen@enron.com" as a name: use the address instead
    if not cleaned:
        return name_from_local_part(local) if local else None
    if is_role_name(cleaned):
        return None
    return _parse_cached(cleaned, local or "")


def clean_display_name(display: str | None) -> str:
    """Strip quotes, legacy address tails, comments and Notes domains from a display name."""
    if not display or len(display) > _MAX_DISPLAY_LEN * 4:
        return ""
    text = display.strip()
    legacy = addresses.legacy_display_name(text)
    if legacy is not None:
        text = legacy
    elif "<" in text:
        before = text.split("<", 1)[0].strip()
        text = before or text.strip("<> ")
    text = _PAREN.sub(" ", text.replace("\\", ""))
    # quotes first: `"Whitfield, Dana K. - TX7DKW" <…>` ends its code inside them
    text = _DEPT_CODE_TAIL.sub("", text.strip().strip("\"'` ").strip())
    text = text.strip().strip("\"'` ").strip()
    text = _NOTES_DOMAIN_TAIL.sub("", text) if "@" in text and " " in text else text
    text = text.strip("\"'`, ").strip()
    return " ".join(text.split())[:_MAX_DISPLAY_LEN]


def is_role_name(display: str) -> bool:
    """True when a display name names a role, list, service or company, not a person."""
    if _NON_NAME_CHARS.search(display):
        return True
    words = [w.strip(".").casefold() for w in re.split(r"[\s,\-&+]+", display) if w]
    if not words or len(words) > 5:
        return True
    if len(words) == 1 and automated.is_role_local_part(words[0]):
        return True
    return any(w in _ROLE_NAME_WORDS for w in words)


_PLAIN_WORD = r"[A-Z][a-z]+"
_PLAIN_FIRST_LAST = re.compile(rf"({_PLAIN_WORD}) ({_PLAIN_WORD})")
_PLAIN_LAST_FIRST = re.compile(rf"({_PLAIN_WORD}), ({_PLAIN_WORD})")
_NAMEPARSER_WORDS = (
    CONSTANTS.titles,
    CONSTANTS.suffix_acronyms,
    CONSTANTS.suffix_not_acronyms,
    CONSTANTS.prefixes,
    CONSTANTS.conjunctions,
)


def _plain_name(cleaned: str) -> tuple[str, str] | None:
    """(first, last) of ``Phillip Allen`` / ``Allen, Phillip``: two capitalised ASCII words that
    nameparser has no special meaning for, which it would split exactly so (a fast path:
    building a `HumanName` costs ~100 µs and most names are this plain)."""
    if match := _PLAIN_FIRST_LAST.fullmatch(cleaned):
        first, last = match[1], match[2]
    elif match := _PLAIN_LAST_FIRST.fullmatch(cleaned):
        last, first = match[1], match[2]
    else:
        return None
    words = (first.lower(), last.lower())
    if any(w in known for w in words for known in _NAMEPARSER_WORDS):
        return None
    return first, last


@lru_cache(maxsize=65536)
def _parse_cached(cleaned: str, local: str) -> PersonName | None:
    plain = _plain_name(cleaned)
    if plain is not None:
        first, last = plain
        if _is_reversed(first, last, local):
            first, last = last, first
        return _make(first, "", last, NameQuality.FULL, suffix="")
    parsed = HumanName(cleaned)
    first, middle, last = parsed.first, parsed.middle, parsed.last
    if not first and not last:
        return None
    if not _all_wordlike(f"{first} {middle} {last}"):
        return None
    if first and last and _is_reversed(first, last, local):
        first, last = last, first
    if _needs_casing(cleaned):
        first, middle, last = (_case(part) for part in (first, middle, last))
    if first and last:
        return _make(first, middle, last, NameQuality.FULL, suffix=parsed.suffix)
    return _complete_partial(first or last, local)


def _complete_partial(single: str, local: str) -> PersonName | None:
    """One-word display name: keep it, or complete it from a matching local part."""
    derived = name_from_local_part(local) if local else None
    if derived and single.casefold() in {derived.first.casefold(), derived.last.casefold()}:
        if len(derived.first) > 1:
            return _make(derived.first, derived.middle, derived.last, NameQuality.FULL)
    return _make(single, "", "", NameQuality.PARTIAL)


@lru_cache(maxsize=65536)
def name_from_local_part(local: str | None) -> PersonName | None:
    """Derive a name from a local part: ``phillip.allen`` -> Phillip Allen, ``k..allen`` -> K. Allen.

    Needs at least two alphabetic pieces separated by ``.``, ``_``, ``-`` or ``+``; role
    mailboxes (``info``, ``noreply``...) and pieces with digits give None.
    """
    if not local or automated.is_role_local_part(local):
        return None
    pieces = [p for p in _LOCAL_SPLIT.split(local) if p]
    if len(pieces) < 2 or len(pieces) > 4 or not all(p.isalpha() for p in pieces):
        return None
    first, *middle, last = (_case(p) for p in pieces)
    if len(last) < 2:
        return None
    if len(first) == 1:
        first += "."
    middle_text = " ".join(m + "." if len(m) == 1 else m for m in middle)
    return _make(first, middle_text, last, NameQuality.DERIVED)


def is_spelled_out(name: PersonName | None) -> bool:
    """True for a name read whole from an address, ``randall.gay@`` -> Randall Gay: two words,
    the first not an initial. Such an address spells its owner's given and family name as
    surely as a display name does, so it is merge evidence too (`extraction.identity_key`);
    ``d..whitfield@`` (an initial) and ``mary.ann.smith@`` (which word is the family name?) are
    not.
    """
    return (
        name is not None
        and name.quality is NameQuality.DERIVED
        and not name.middle
        and len(name.first.strip(".")) > 1
    )


_SUFFIX_WORDS = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})


def middles_differ(a: str, b: str) -> bool:
    """True when two full names of one first and last name carry different middle initials:
    ``Dana K. Whitfield`` and ``Dana R Whitfield`` are two people, ``Dana Whitfield`` may be
    either. Names as `PersonName.full` writes them (first, middles, last, suffix)."""
    x, y = _middle_initials(a), _middle_initials(b)
    return bool(x and y and x[0] != y[0])


def suffixes_differ(a: str, b: str) -> bool:
    """True when two full names do not carry the same suffixes: ``Dana Whitfield Jr.`` and
    ``Dana Whitfield`` (or ``Sr.``) may be parent and child."""
    return _suffixes(a) != _suffixes(b)


def _suffixes(full: str) -> frozenset[str]:
    return frozenset(w.strip(".").casefold() for w in full.split()[2:]) & _SUFFIX_WORDS


def _middle_initials(full: str) -> str:
    """The initials of the words between the first and the last (suffixes dropped)."""
    words = [w.strip(".").casefold() for w in full.split()]
    words = [w for w in words if w and w not in _SUFFIX_WORDS]
    return "".join(w[0] for w in words[1:-1])


HANDLE_MIN = 4  # `alb@` for Al Barr is too short to be anyone's in particular
_CUT_HANDLE_MIN = 7  # mail systems cut aliases short (8 characters): `dwhitfi@`


def is_handle_of(local: str, first: str, last: str) -> bool:
    """True when an address's local part is a handle made of this name: ``danaw``,
    ``dwhitfield``, ``danawhitfield``, ``whitfieldd``, ``whitfielddana`` for Dana Whitfield,
    or ``dwhitfield`` cut to 7 letters or more (``dwhitfi``). Letters only: ``dana.whitfield``
    is read as a name already (`name_from_local_part`), and a family name alone
    (``whitfield@``) fits a whole family."""
    return local.isalpha() and local.casefold() in handles_of(first, last)


def is_made_of_name(local: str, first: str, last: str) -> bool:
    """True when a local part is this person's own: a handle of the name (`is_handle_of`) or
    the name spelled out, ``dana.whitfield`` / ``dana_whitfield`` for Dana Whitfield."""
    if is_handle_of(local, first, last):
        return True
    pieces = [_letters(p) for p in _LOCAL_SPLIT.split(local) if p]
    return len(pieces) == 2 and all(pieces) and pieces == [_letters(first), _letters(last)]


@lru_cache(maxsize=65536)
def handles_of(first: str, last: str) -> frozenset[str]:
    """Every local part `is_handle_of` takes for this name (empty without a given and a family
    name of two letters or more)."""
    given, family = _letters(first), _letters(last)
    if len(given) < 2 or len(family) < 2:
        return frozenset()
    initial = given[0]
    cut = initial + family
    found = {given + family, cut, given + family[0], family + initial, family + given}
    found |= {cut[:n] for n in range(_CUT_HANDLE_MIN, len(cut))}
    return frozenset(h for h in found if len(h) >= HANDLE_MIN)


def _letters(part: str) -> str:
    return "".join(c for c in part.casefold() if c.isalpha())


def best_name(candidates: Iterable[tuple[str, int]], email: str | None = None) -> PersonName | None:
    """Pick the best person name among the display names seen for one address.

    Candidates are ``(display_name, count)``. Names are grouped by first+last (ignoring
    case, dots and middle initials); partial names add their support to a full name they
    agree with. The winner has the best quality (full > partial > derived), then the most
    support; its most-seen spelling is returned.
    """
    support: dict[str, int] = defaultdict(int)
    spellings: dict[str, dict[PersonName, int]] = defaultdict(lambda: defaultdict(int))
    partial_support: dict[str, int] = defaultdict(int)
    role_support = 0
    for display, count in candidates:
        if count <= 0:
            continue
        name = parse_display_name(display, email)
        if name is None:
            role_support += count if _is_role_display(display) else 0
            continue
        if name.quality is NameQuality.PARTIAL:
            partial_support[name.first.casefold()] += count
        support[name.key] += count
        spellings[name.key][name] += count
    if role_support and role_support >= sum(support.values()):
        return None  # mostly seen under role names: a role mailbox, not a person
    if not support:
        return parse_display_name(None, email)
    for key in support:
        best_spelling = _top(spellings[key])
        if best_spelling.quality is NameQuality.FULL:
            tokens = {best_spelling.first.casefold(), best_spelling.last.casefold()}
            support[key] += sum(n for word, n in partial_support.items() if word in tokens)
    winner = max(support, key=lambda k: _rank(_top(spellings[k]), support[k]))
    return _top(spellings[winner])


def _top(spellings: dict[PersonName, int]) -> PersonName:
    return max(spellings, key=lambda n: _rank(n, spellings[n]))


def _rank(name: PersonName, support: int) -> tuple[int, int, int, int]:
    """Quality first, then support, then a spelled-out first name, then a middle name."""
    return (name.quality, support, len(name.first.strip(".")) > 1, len(name.middle))


@lru_cache(maxsize=65536)
def _is_role_display(display: str | None) -> bool:
    cleaned = clean_display_name(display)
    return bool(cleaned) and "@" not in cleaned and is_role_name(cleaned)


def _make(
    first: str, middle: str, last: str, quality: NameQuality, *, suffix: str = ""
) -> PersonName:
    full = " ".join(part for part in (first, middle, last, suffix) if part)
    return PersonName(first=first, middle=middle, last=last, full=full, quality=quality)


def _local_part(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[0].strip().strip("\"'<").lower() or None


def _all_wordlike(text: str) -> bool:
    return all(_WORD.fullmatch(tok) for tok in text.split())


def _is_reversed(first: str, last: str, local: str) -> bool:
    """``"Cheung  Joseph" <joseph.cheung@...>``: display order disagrees with the address."""
    pieces = [p for p in _LOCAL_SPLIT.split(local) if p]
    if len(pieces) < 2:
        return False
    return (first.casefold(), last.casefold()) == (pieces[-1], pieces[0])


def _needs_casing(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and (
        all(c.isupper() for c in letters) or all(c.islower() for c in letters)
    )


@lru_cache(maxsize=65536)
def _case(part: str) -> str:
    if not part:
        return part
    name = HumanName(part.lower())
    name.capitalize(force=True)
    cased = str(name).strip()
    return cased if cased.casefold() == part.casefold() else part.capitalize()
