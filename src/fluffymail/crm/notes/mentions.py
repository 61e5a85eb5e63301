"""The `@mentions` in a note (`@Maya`, `@Mike Purcell`, `@maya@acme.test`) and their lookup keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

AT = re.compile(r"(?<![\w@.+-])@(?=[^\W\d_])")
EMAIL = re.compile(r"[\w.+'-]{1,64}@[^\W_][\w-]{0,62}(?:\.[^\W_][\w-]{0,62})+")
WORD = r"[^\W\d_][\w.'’-]{0,63}+(?!@)"  # not the start of an address
MAX_WORDS = 5
"""The longest name a mention is read as: "Maria de la Cruz Garcia"."""
WORDS = re.compile(rf"{WORD}(?:[^\S\r\n]+{WORD}){{0,{MAX_WORDS - 1}}}")
TRAILING = ".'’-"
POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Written:
    """One `@mention` as written: the names it could be, longest first (`"Mike Purcell said"`,
    `"Mike Purcell"`, `"Mike"`); an address is one name."""

    phrases: tuple[str, ...]

    @property
    def shortest(self) -> str:
        return self.phrases[-1]


def key(phrase: str) -> str:
    """What a phrase is looked up by: NFC, lower-cased, one space between words, `'` for `’`."""
    text = unicodedata.normalize("NFC", phrase).replace("’", "'")
    return " ".join(text.split()).lower()


def found(body: str) -> list[Written]:
    """The distinct mentions in `body`, in order of first mention."""
    seen: dict[tuple[str, ...], Written] = {}
    for at in AT.finditer(body):
        written = _at(body, at.end())
        if written is not None:
            seen.setdefault(tuple(key(p) for p in written.phrases), written)
    return list(seen.values())


def _at(body: str, start: int) -> Written | None:
    """The mention whose text starts at `start` (just after its `@`)."""
    if email := EMAIL.match(body, start):
        return Written((email.group(0),))
    run = WORDS.match(body, start)
    if run is None:
        return None
    words = run.group(0).split()
    phrases: dict[str, None] = {}
    for n in range(len(words), 0, -1):
        phrase = " ".join(words[:n]).rstrip(TRAILING)
        for variant in (phrase, POSSESSIVE.sub("", phrase).rstrip(TRAILING)):
            if variant:
                phrases.setdefault(variant, None)
    return Written(tuple(phrases)) if phrases else None


def keys(written: list[Written]) -> list[str]:
    """Every lookup key of the mentions, each once."""
    return list(dict.fromkeys(key(p) for w in written for p in w.phrases))
