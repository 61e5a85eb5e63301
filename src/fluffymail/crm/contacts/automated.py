"""Decides whether a message or sender is automated, bulk or a role mailbox (never a contact).

Header signals follow RFC 2369/2919/3834/3464 and Twenty's is-bulk-mail rules; role local parts
come from the maintained list in ``data/role_local_parts.txt``. Pure: stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache

from fluffymail.crm.contacts._data import load_word_set

__all__ = [
    "MAX_HUMAN_RECIPIENTS",
    "AutomatedReason",
    "is_automated",
    "is_role_address",
    "is_role_local_part",
]

MAX_HUMAN_RECIPIENTS = 20  # folk drops threads with more recipients than this
_ROLE_LOCAL_PARTS = load_word_set("role_local_parts.txt")
_LOCAL_NOISE = re.compile(r"[.\-_+]")
_TRAILING_DIGITS = re.compile(r"\d+$")
_UNSUBSCRIBE = re.compile(r"unsubscribe|unsub|opt[._-]?out|bounces?[-+=]", re.IGNORECASE)
_ROLE_PREFIX = re.compile(r"^(?:no-?reply|do-?not-?reply|mailer-daemon|bounce)", re.IGNORECASE)
# Words that name a broadcast channel even as one part of a compound local part
# (`enron.announcements@`, `team_updates@`, `acme-newsletter@`); people's names do not use them.
_ROLE_TOKENS = frozenset(
    "announce announcements newsletter newsletters notification notifications alerts digest "
    "update updates noreply donotreply mailer".split()
)


class AutomatedReason(StrEnum):
    """Why a message is not person-to-person mail."""

    LIST_ID = "list_id"
    LIST_UNSUBSCRIBE = "list_unsubscribe"
    PRECEDENCE = "precedence"
    AUTO_SUBMITTED = "auto_submitted"
    NULL_RETURN_PATH = "null_return_path"
    DELIVERY_REPORT = "delivery_report"
    ROLE_SENDER = "role_sender"
    CALENDAR_INVITE = "calendar_invite"
    TOO_MANY_RECIPIENTS = "too_many_recipients"


def is_automated(
    headers: Mapping[str, str | None],
    sender_email: str | None,
    recipient_count: int,
    *,
    is_calendar_invite: bool = False,
) -> AutomatedReason | None:
    """Return why a message is automated or bulk, or None when it looks person-to-person.

    Args:
        headers: message headers; keys are matched case-insensitively, values may be None.
        sender_email: the From address (already normalized or raw).
        recipient_count: number of To + Cc (+ Bcc) recipients.
        is_calendar_invite: the caller found a ``text/calendar`` part or ``.ics`` attachment.
    """
    lowered = {k.lower(): (v or "").strip() for k, v in headers.items()}
    reason = _header_reason(lowered)
    if reason is not None:
        return reason
    if sender_email and is_role_address(sender_email):
        return AutomatedReason.ROLE_SENDER
    if is_calendar_invite:
        return AutomatedReason.CALENDAR_INVITE
    if recipient_count > MAX_HUMAN_RECIPIENTS:
        return AutomatedReason.TOO_MANY_RECIPIENTS
    return None


def _header_reason(headers: Mapping[str, str]) -> AutomatedReason | None:
    if headers.get("list-id"):
        return AutomatedReason.LIST_ID
    if headers.get("list-unsubscribe"):
        return AutomatedReason.LIST_UNSUBSCRIBE
    if headers.get("precedence", "").lower() in {"bulk", "list", "junk"}:
        return AutomatedReason.PRECEDENCE
    auto = headers.get("auto-submitted", "").lower()
    if auto and auto.split(";", 1)[0].strip() != "no":
        return AutomatedReason.AUTO_SUBMITTED
    if headers.get("return-path", "").replace(" ", "") == "<>":
        return AutomatedReason.NULL_RETURN_PATH
    content_type = headers.get("content-type", "").lower()
    if "multipart/report" in content_type and "delivery-status" in content_type:
        return AutomatedReason.DELIVERY_REPORT
    return None


def is_role_address(email: str | None) -> bool:
    """True for role / no-reply mailboxes: ``noreply@``, ``info@``, ``mailer-daemon@``..."""
    if not email or "@" not in email:
        return False
    local = email.strip().strip("<>\"'").rsplit("@", 1)[0]
    return is_role_local_part(local)


@lru_cache(maxsize=65536)
def is_role_local_part(local: str) -> bool:
    """True when a local part names a role rather than a person (see data/role_local_parts.txt)."""
    lowered = local.lower()
    if _ROLE_PREFIX.match(lowered) or _UNSUBSCRIBE.search(lowered):
        return True
    squashed = _TRAILING_DIGITS.sub("", _LOCAL_NOISE.sub("", lowered))
    if squashed in _ROLE_LOCAL_PARTS or lowered.split("+", 1)[0] in _ROLE_LOCAL_PARTS:
        return True
    tokens = {_TRAILING_DIGITS.sub("", t) for t in _LOCAL_NOISE.split(lowered)}
    return len(tokens) > 1 and not tokens.isdisjoint(_ROLE_TOKENS)
