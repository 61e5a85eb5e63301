"""Would "no human reply ever" help as a bulk signal (issue 12)? Measured, not shipped.

A sender the owner never wrote to (no To/Cc/Bcc of theirs in the mailbox's sent folders) and
that shows a bulk trait (a `messages.bulk` signal on one of its messages, or a role / no-reply
address) has all its messages flagged. Scored like `bulk_eval.py`: 5 folds by sender; the
signals to enable, the new one among them, chosen on the other folds' senders (most spam found
with at most 1 % of human replies flagged). The SpamAssassin mailboxes have no sent folder:
variant "no sent folder = never answered" treats every sender there as never answered,
"sent folder only" applies the signal only where the owner's own mail is known.

    .venv/bin/python bench/bulk_noreply_eval.py
"""

from __future__ import annotations

import itertools
import mailbox
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import bulk_eval
from eval_contacts import corpus_root
from fluffymail.crm.contacts import automated
from fluffymail.crm.messages import bulk

NEW = "no_reply_bulk"
_SENT = re.compile(r"(^|/)_?sent(_mail|_items)?(\.mbox)?($|/)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    owner: str
    case: bulk_eval.Case


@dataclass(slots=True)
class Corpus:
    mails: list[Mail]
    answered: dict[str, set[str]]  # owner -> addresses the owner wrote to

    def add(self, owner: str, raw: bytes, label_of: str, *, sent: bool) -> None:
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]
        if sent:
            head = message_from_bytes(raw, policy=compat32)
            fields = [*head.get_all("to", []), *head.get_all("cc", []), *head.get_all("bcc", [])]
            self.answered[owner].update(a.strip().lower() for _, a in getaddresses(fields))
        case = bulk_eval._case(raw, label_of)
        if case is not None:
            self.mails.append(Mail(owner=owner, case=case))


def load(root: Path) -> Corpus:
    found = Corpus(mails=[], answered=defaultdict(set))
    for folder, label in (("easy_ham", "ham"), ("spam", "spam")):
        for path in sorted((root / "spamassassin" / folder).iterdir()):
            if path.is_file():
                found.add("spamassassin", path.read_bytes(), label, sent=False)
    for path in sorted((root / "enron" / "mbox").glob("*/*.mbox")):
        for message in mailbox.mbox(path):
            sent = bool(_SENT.search(path.name))
            found.add(path.parent.name, message.as_bytes(), "enron", sent=sent)
    maildir = root / "enron" / "maildir"
    for path in sorted(maildir.rglob("*")):
        if path.is_file() and path.parent.name in {"cur", "new"}:
            rel = path.relative_to(maildir)
            found.add(rel.parts[0], path.read_bytes(), "enron", sent=bool(_SENT.search(str(rel))))
    return found


Rule = Callable[[Mail], bool]


def evaluate(mails: list[Mail], rule: Rule) -> tuple[float, float, int]:
    """Held-out (spam flagged, human replies flagged, human replies flagged count)."""
    cases = [
        (m.case.sender, m.case.label, set(m.case.signals) | ({NEW} if rule(m) else set()))
        for m in mails
    ]
    options = [*bulk.SIGNALS, NEW]
    subsets = [frozenset(s) for n in range(5) for s in itertools.combinations(options, n)]

    def rates(
        items: list[tuple[str, str, set[str]]], enabled: frozenset[str]
    ) -> tuple[float, float]:
        spam = [bool(s & enabled) for _, label, s in items if label == "bulk"]
        human = [bool(s & enabled) for _, label, s in items if label == "human"]
        return sum(spam) / max(len(spam), 1), sum(human) / max(len(human), 1)

    def key(
        train: list[tuple[str, str, set[str]]], enabled: frozenset[str]
    ) -> tuple[bool, float, float]:
        found, wrong = rates(train, enabled)
        return (wrong <= bulk_eval.MAX_HUMAN_FLAGGED, found, -wrong)

    spam: list[bool] = []
    human: list[bool] = []
    for k in range(bulk_eval.FOLDS):
        train = [c for c in cases if bulk_eval._fold(c[0]) != k]
        enabled = max(subsets, key=lambda e: key(train, e))
        for sender, label, signals in cases:
            if bulk_eval._fold(sender) == k and label in ("bulk", "human"):
                (spam if label == "bulk" else human).append(bool(signals & enabled))
    return sum(spam) / len(spam), sum(human) / len(human), sum(human)


def main() -> None:
    corpus = load(corpus_root())
    with_sent = set(corpus.answered)
    traits: dict[tuple[str, str], bool] = defaultdict(bool)
    for m in corpus.mails:
        key = (m.owner, m.case.sender)
        traits[key] |= bool(m.case.signals) or automated.is_role_address(m.case.sender)

    def never(m: Mail) -> bool:
        return m.case.sender not in corpus.answered.get(m.owner, set())

    rules: dict[str, Rule] = {
        "baseline (three signals)": lambda m: False,
        "never answered + trait, no sent folder = never": lambda m: (
            never(m) and traits[(m.owner, m.case.sender)]
        ),
        "never answered + trait, sent folder only": lambda m: (
            m.owner in with_sent and never(m) and traits[(m.owner, m.case.sender)]
        ),
        "never answered + role address, no sent folder = never": lambda m: (
            never(m) and automated.is_role_address(m.case.sender)
        ),
        "never answered + role address, sent folder only": lambda m: (
            m.owner in with_sent and never(m) and automated.is_role_address(m.case.sender)
        ),
    }
    print(f"{len(corpus.mails)} messages; mailboxes with a sent folder: {len(with_sent)}")
    for name, rule in rules.items():
        found, wrong, count = evaluate(corpus.mails, rule)
        print(f"{name:55s} spam {found:.3f}  human replies {wrong:.4f} ({count})")


if __name__ == "__main__":
    main()
