"""Names people type for the things they make (a tag, a list): kept in one form, so two that
look alike are one name. Pure; imports nothing of FluffyMail's."""

from __future__ import annotations

import unicodedata

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
"""Characters that show as nothing: zero-width space, word joiner, byte-order mark and soft
hyphen (pasted from web pages and documents). Joiners (U+200C, U+200D) stay: scripts and emoji
need them."""


def clean_name(text: str) -> str:
    """`text` as a name is kept and compared: in NFC (an "é" typed as "e" and a combining
    accent, as some keyboards and macOS send it, is the one "é"), without invisible
    characters, one space between words and none around them. QA: "Café" typed both ways, or
    "Investors" with a zero-width space, made two tags that read the same."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    return " ".join(text.split())
