"""Decides whether an address is a group (a distribution list or team alias), not a person.

Pure rules on the address and the display names it was seen with; the fan-out evidence
(mail delivered to the user through the address) is counted in SQL (`sql/mark_fanout_groups.sql`)
by `service.py`. Stdlib only; imports nothing of the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

__all__ = [
    "FANOUT_MIN_MESSAGES",
    "FANOUT_MIN_SENDERS",
    "GroupReason",
    "group_reason",
    "looks_like_owner",
    "sole_recipient",
]

# An address is a fan-out group once it was the only To/Cc recipient of this many messages
# the user received without being named on them, from at least this many different senders.
FANOUT_MIN_MESSAGES = 3
FANOUT_MIN_SENDERS = 2

_TOKEN_SPLIT = re.compile(r"[.\-_+]+")
_WORD_SPLIT = re.compile(r"[^\w]+")
# `dl-portland`, `center.dl-portland`, `DL_Trading`: the Exchange/Notes convention for lists
_DL_TOKENS = frozenset({"dl", "dist", "distlist", "distribution"})
# Words that name a set of people, in a local part or a display name (never a person's name);
# "group" only in a local part: in a display name it is mostly a company's ("Energy Group")
_NAME_WORDS = frozenset(
    "team teams crew staff everyone list lists committee department dept "
    "members desk traders schedulers preschedulers".split()
)
_GROUP_WORDS = _NAME_WORDS | {"group", "groups"}
_OWNER_STEM = 6  # `mswerzb@` is Swerzbin's, `jreitme@` Reitmeyer's: systems cut names short


class GroupReason(StrEnum):
    """Why an address is a group (`crm.contacts.kind_reason`)."""

    DL_ADDRESS = "dl_address"
    GROUP_WORD_ADDRESS = "group_word_address"
    GROUP_WORD_NAME = "group_word_name"
    FANOUT = "fanout"
    GROUP_SYNTAX = "group_syntax"


def group_reason(address: str, display_names: Iterable[str] = ()) -> GroupReason | None:
    """Why `address` is a group, or None when nothing says so.

    Args:
        address: the normalised address (``center.dl-portland@enron.com``).
        display_names: names it was seen with (``West Power Traders``, ``DL-Portland``).
    """
    local = address.rpartition("@")[0].lower().strip(".")
    tokens = {t for t in _TOKEN_SPLIT.split(local) if t}
    if tokens & _DL_TOKENS:
        return GroupReason.DL_ADDRESS
    if tokens & _GROUP_WORDS:
        return GroupReason.GROUP_WORD_ADDRESS
    named = [n for n in (_name_part(d) for d in display_names) if n]
    if named and all(_names_a_group(n) for n in named):  # one stray X-To entry is not enough
        return GroupReason.GROUP_WORD_NAME
    return None


def looks_like_owner(address: str, owner_addresses: Iterable[str]) -> bool:
    """True when the local part carries a word of the user's own addresses (``pallen@`` for
    ``phillip.allen@``): mail such an address fans out to the user is the user's own, so the
    fan-out rule leaves it a person (an alias the identity rules may yet recognise)."""
    local = address.rpartition("@")[0].lower()
    for own in owner_addresses:
        for word in _TOKEN_SPLIT.split(own.rpartition("@")[0].lower()):
            if len(word) >= 4 and word[:_OWNER_STEM] in local:
                return True
    return False


def sole_recipient(participants: Iterable[tuple[str, str]], me: Iterable[str]) -> str | None:
    """The one To/Cc address of a message that reached the user without naming the user (and
    not from the user): the evidence the fan-out rule counts. `participants`: (role, address)."""
    mine = set(me)
    named: list[str] = []
    for role, address in participants:
        if address in mine and role in {"from", "to", "cc", "bcc"}:
            return None
        if role in {"to", "cc"}:
            named.append(address)
    return named[0] if len(named) == 1 else None


def _name_part(display: str) -> str:
    """The name before an address or Exchange DN in angle brackets."""
    return display.split("<", 1)[0].strip(" \"'")


def _names_a_group(name: str) -> bool:
    """``DL-Portland``, ``West Desk Team``, ``All Traders`` (not ``Jane Allison``)."""
    words = [w for w in _WORD_SPLIT.split(name.casefold()) if w]
    if not words:
        return False
    if words[0] in _DL_TOKENS and len(words) > 1:
        return True
    if words[0] in {"all", "everyone"} and len(words) > 1:
        return True
    return any(w in _NAME_WORDS for w in words)
