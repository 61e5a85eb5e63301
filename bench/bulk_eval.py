"""Bulk mail without List-* headers (issue 12), measured on the corpus; `eval_contacts.py`
prints the figures.

Labels. SpamAssassin `spam` is bulk (every message). Human mail: the replies (`Re:` subject or
an In-Reply-To header) among SpamAssassin `easy_ham` messages without a List-Id, and the
replies among the Enron messages (`Re:` subjects; Enron has no In-Reply-To). Non-reply ham
without a List-Id (direct mail and newsletters, unlabelled) is reported as a flagged share only.
List mail is left out: its List-* headers flag it already.

Held out by sender: senders are dealt into folds by a stable hash; for each fold, the set of
signals to enable (any subset of `messages.bulk.SIGNALS`) is chosen on the other folds' senders
(most bulk found with at most 1 % of human replies flagged, then fewest human flagged) and the
fold is scored with it. The product enables all three; that in-sample figure is printed too.
"""

from __future__ import annotations

import hashlib
import itertools
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path

from fluffymail.crm.messages import bulk
from fluffymail.crm.messages.parse import parse_message

FOLDS = 5
MAX_HUMAN_FLAGGED = 0.01
_REPLY = re.compile(r"^\s*re\s*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    sender: str
    label: str  # "bulk", "human" or "" (unlabelled)
    signals: frozenset[bulk.BulkSignal]  # every signal the message carries


def _case(raw: bytes, label_of: str) -> Case | None:
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1]
    head = message_from_bytes(raw, policy=compat32)
    parsed = parse_message(raw)
    if label_of == "ham" and head.get("list-id"):
        return None
    reply = bool(_REPLY.match(parsed.subject) or head.get("in-reply-to"))
    label = "bulk" if label_of == "spam" else "human" if reply else ""
    if label_of == "enron" and not reply:
        return None
    found = {bulk.header_signal(head.keys())}
    found.add(bulk.body_signal(parsed.body_text, html_only=False, subject=parsed.subject))
    if _html_only(head):
        found.add(bulk.BulkSignal.HTML_ONLY)
    sender = parsed.from_.email if parsed.from_ else ""
    return Case(sender=sender, label=label, signals=frozenset(s for s in found if s))


def _html_only(message: Message) -> bool:
    types = [p.get_content_type() for p in message.walk() if not p.is_multipart()]
    return "text/html" in types and "text/plain" not in types


def _enron_raw(root: Path) -> Iterator[bytes]:
    for path in sorted((root / "enron" / "mbox").glob("*/*.mbox")):
        for message in mailbox.mbox(path):
            yield message.as_bytes()
    for path in sorted((root / "enron" / "maildir").rglob("*")):
        if path.is_file() and path.parent.name in {"cur", "new"}:
            yield path.read_bytes()


def cases(root: Path) -> list[Case]:
    base = root / "spamassassin"
    out: list[Case | None] = []
    for folder, label in (("easy_ham", "ham"), ("spam", "spam")):
        out += [
            _case(p.read_bytes(), label) for p in sorted((base / folder).iterdir()) if p.is_file()
        ]
    out += [_case(raw, "enron") for raw in _enron_raw(root)]
    return [c for c in out if c is not None]


def _flagged(case: Case, enabled: frozenset[bulk.BulkSignal]) -> bool:
    return bool(case.signals & enabled)


def _rates(items: list[Case], enabled: frozenset[bulk.BulkSignal]) -> tuple[float, float]:
    spam = [c for c in items if c.label == "bulk"]
    human = [c for c in items if c.label == "human"]
    found = sum(_flagged(c, enabled) for c in spam) / max(len(spam), 1)
    wrong = sum(_flagged(c, enabled) for c in human) / max(len(human), 1)
    return found, wrong


SUBSETS = [
    frozenset(s)
    for n in range(len(bulk.SIGNALS) + 1)
    for s in itertools.combinations(bulk.SIGNALS, n)
]


def _choose(train: list[Case]) -> frozenset[bulk.BulkSignal]:
    def key(enabled: frozenset[bulk.BulkSignal]) -> tuple[bool, float, float]:
        found, wrong = _rates(train, enabled)
        return (wrong <= MAX_HUMAN_FLAGGED, found, -wrong)

    return max(SUBSETS, key=key)


def _fold(sender: str) -> int:
    return int(hashlib.sha256(sender.encode()).hexdigest(), 16) % FOLDS


def figures(root: Path) -> list[tuple[str, float, float | None, str]]:
    """(name, value, bar, format) rows for `eval_contacts.Figure`."""
    items = cases(root)
    held: list[tuple[Case, bool]] = []
    for k in range(FOLDS):
        enabled = _choose([c for c in items if _fold(c.sender) != k])
        held += [(c, _flagged(c, enabled)) for c in items if _fold(c.sender) == k]
    spam = [f for c, f in held if c.label == "bulk"]
    human = [f for c, f in held if c.label == "human"]
    found_all, wrong_all = _rates(items, frozenset(bulk.SIGNALS))
    unlabelled = [c for c in items if c.label == ""]
    share = sum(_flagged(c, frozenset(bulk.SIGNALS)) for c in unlabelled) / max(len(unlabelled), 1)
    return [
        (
            "bulk_no_list_header_spam_flagged_held_out",
            sum(spam) / max(len(spam), 1),
            None,
            "{:.3f}",
        ),
        (
            "bulk_no_list_header_human_replies_flagged_held_out",
            sum(human) / max(len(human), 1),
            None,
            "{:.3f}",
        ),
        ("bulk_no_list_header_spam_flagged_in_sample", found_all, None, "{:.3f}"),
        ("bulk_no_list_header_human_replies_flagged_in_sample", wrong_all, None, "{:.3f}"),
        ("bulk_no_list_header_ham_non_reply_flagged", share, None, "{:.3f}"),
        ("bulk_no_list_header_spam_messages", len(spam), None, "{:.0f}"),
        ("bulk_no_list_header_human_replies", len(human), None, "{:.0f}"),
        ("bulk_no_list_header_ham_non_reply_messages", len(unlabelled), None, "{:.0f}"),
    ]
