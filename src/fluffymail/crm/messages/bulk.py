"""Bulk-mail signals a message carries without any List-* header (issue 12): a bulk-mail
platform's headers, an unsubscribe or opt-out line at the end of the body, an HTML-only body.

Pure and stdlib only; `parse` records the signal on the message, `contacts.automated` turns it
into an automated reason. No rule names a sender.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

__all__ = ["SIGNALS", "BulkSignal", "body_signal", "header_signal", "signal"]

# Headers that only bulk-mail platforms and campaign tools add (Mailgun, SendGrid, Mailchimp /
# Mandrill, Amazon SES / Google Feedback-ID loops, campaign managers, CSA certification)
_PLATFORM_PREFIXES = (
    "x-mailgun-", "x-sg-", "x-sendgrid", "x-campaign", "x-mailchimp", "x-mc-", "x-mandrill",
    "x-rpcampaign", "x-cmae-", "x-csa-complaints", "x-listmember", "x-mailer-recptid",
    "x-emv-", "x-ems", "x-ymlp", "x-msfbl", "x-bulkmail", "x-campaignid", "x-job",
)  # fmt: skip
_PLATFORM_HEADERS = frozenset({"feedback-id", "list-unsubscribe-post", "x-abuse-reports-to"})
_TAIL_CHARS = 1500
_UNSUBSCRIBE = re.compile(
    r"unsubscribe|opt[\s-]?out\b|remove yourself|to be removed|no longer wish to receive"
    r"|do not wish to receive|stop receiving|update your (?:e-?mail )?preferences"
    r"|manage (?:your )?subscription",
    re.IGNORECASE,
)
# An ASCII tail is searched lower-cased, case-sensitively (the same matches, several times
# faster than the case-insensitive alternation). Every branch holds one of the words, at most
# `_WORD_LEAD` characters from its start ("update your e-mail preferences"), so a tail
# without any of them is not searched at all, and the search starts that far before the
# first word found (no match can start earlier)
_UNSUBSCRIBE_LOWER = re.compile(_UNSUBSCRIBE.pattern)
_UNSUBSCRIBE_WORDS = (
    "subscri", "opt", "remove", "wish to receive", "stop receiving", "preferences",
)  # fmt: skip
_WORD_LEAD = 19
# A reply or forward quotes the mail it answers, unsubscribe line and all: a line found after
# the first quote marker is not the sender's own
# The blanks before a quote line's marker stay on its line ("[^\S\n]*", not "\s*"): a "\s*"
# from each line break rescanned every blank line after it, quadratic on a long run of them
# (20,000 blank lines took 2.8 s lower-cased, 11.7 s here). A match then starts on the marker's
# own line instead of the first of the blank lines before it; only whitespace lies between, where
# no opt-out line can start, so `body_signal` answers the same. "-{3,}" as below.
_QUOTED = re.compile(
    r"---(?<!----)-*\s*(?:original message|forwarded (?:message|by))"
    r"|^[^\S\n]*begin forwarded message"
    r"|wrote:\s*$|^>|^[^\S\n]*(?:subject|sent|to|cc):\s",
    re.IGNORECASE | re.MULTILINE,
)

# _QUOTED's branches, for lower-cased ASCII: a quote line's start is found from the line
# break before it ("+ 1"), the first line by `_QUOTED_LINE`. "-{3,}" is spelt
# "---(?<!----)-*": a pattern that starts with a literal is searched by skipping to it, and the
# look-behind tries a match only from the first dash of a run, the leftmost start any dash of
# the run can give (what follows the run is the same from each). The same match, in linear
# time: trying every dash of a long run was quadratic (20,000 dashes took seconds)
_LINE_QUOTE = r"(?:[^\S\n]*begin forwarded message|>|[^\S\n]*(?:subject|sent|to|cc):\s)"
_QUOTED_LINE = re.compile(_LINE_QUOTE)
_QUOTED_BRANCHES = (
    (re.compile(r"---(?<!----)-*\s*(?:original message|forwarded (?:message|by))"), 0),
    (re.compile(r"wrote:\s*$", re.MULTILINE), 0),
    (re.compile(r"\n" + _LINE_QUOTE), 1),
)


class BulkSignal(StrEnum):
    """Which bulk signal a message carries (stored in `extra_headers.bulk_signal`)."""

    PLATFORM_HEADER = "bulk_platform_header"
    BODY_UNSUBSCRIBE = "body_unsubscribe"
    HTML_ONLY = "html_only"


SIGNALS = tuple(BulkSignal)
_ALL = frozenset(SIGNALS)


def header_signal(names: Iterable[str]) -> BulkSignal | None:
    """PLATFORM_HEADER when a header name is a bulk-mail platform's."""
    if iter(names) is names:  # an iterator: read it once
        names = list(names)
    if _PLAIN_NAMES.issuperset(names):  # every name seen before (most messages): one call
        return None
    for name in names:
        if name in _PLAIN_NAMES:
            continue
        lowered = name.lower()
        if lowered in _PLATFORM_HEADERS or lowered.startswith(_PLATFORM_PREFIXES):
            return BulkSignal.PLATFORM_HEADER
        if len(_PLAIN_NAMES) < 4096:
            _PLAIN_NAMES.add(name)
    return None


_PLAIN_NAMES: set[str] = set()  # header names known not to be a platform's (a mailbox uses few)


def body_signal(text: str, *, html_only: bool, subject: str = "") -> BulkSignal | None:
    """BODY_UNSUBSCRIBE for an opt-out line in the body's last lines, before anything quoted;
    HTML_ONLY for a body sent as HTML alone (people's mail programs add a text part)."""
    found = _unsubscribe_line(text)
    if found is not None and not subject.lower().startswith(("fw:", "fwd:")):
        quoted = _quote_start(text)  # only when needed: it scans the whole body
        if quoted is None or quoted > found:
            return BulkSignal.BODY_UNSUBSCRIBE
    if html_only and text.strip():
        return BulkSignal.HTML_ONLY
    return None


def _unsubscribe_line(text: str) -> int | None:
    """Where the first opt-out phrase in the body's last `_TAIL_CHARS` starts, if any."""
    start = max(len(text) - _TAIL_CHARS, 0)
    tail = text[start:]
    if tail.isascii():
        lowered = tail.lower()
        first = _first_word(lowered)
        if first < 0:
            return None
        found = _UNSUBSCRIBE_LOWER.search(lowered, max(first - _WORD_LEAD, 0))
        return start + found.start() if found is not None else None
    found = _UNSUBSCRIBE.search(text, start)
    return found.start() if found is not None else None


def _first_word(lowered: str) -> int:
    """Where the first of `_UNSUBSCRIBE_WORDS` in `lowered` starts, or -1."""
    first = -1
    for word in _UNSUBSCRIBE_WORDS:  # a loop: `min` over a generator costs more here
        at = lowered.find(word)
        if at >= 0 and (first < 0 or at < first):
            first = at
    return first


def _quote_start(text: str) -> int | None:
    """Where `_QUOTED` first matches. An ASCII body is searched lower-cased, one branch at a
    time (the leftmost of their first matches is the alternation's): each then starts with
    a literal the regex engine skips to, about 3x faster than trying every branch at every
    character."""
    if not text.isascii():
        found = _QUOTED.search(text)
        return found.start() if found is not None else None
    lowered = text.lower()
    if _QUOTED_LINE.match(lowered):
        return 0
    starts = [
        found.start() + skip
        for pattern, skip in _QUOTED_BRANCHES
        if (found := pattern.search(lowered)) is not None
    ]
    return min(starts, default=None)


def signal(
    header_names: Iterable[str],
    text: str,
    *,
    html_only: bool,
    subject: str = "",
    enabled: Iterable[BulkSignal] = SIGNALS,
) -> BulkSignal | None:
    """The first bulk signal among `enabled` (header, then body), or None."""
    allowed = _ALL if enabled is SIGNALS else set(enabled)
    found = header_signal(header_names)
    if found in allowed:
        return found
    found = body_signal(
        text, html_only=html_only and BulkSignal.HTML_ONLY in allowed, subject=subject
    )
    return found if found in allowed else None
