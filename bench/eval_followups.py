"""How well the open-loop rules (crm/followups/loops.py) find questions put to the reader and
promises the writer made, on real Enron mail, held-out senders only.

Senders are split in two by a hash of their address; the rules were written without looking at
the corpus, and the labelled sample comes only from the held-out half (the other half is kept
for tuning them later). Candidates are every sentence of a message's own text that ends with
"?" (questions) or holds a first-person future ("I'll", "we will", "let me"…: promises); a
person labelled a random sample of each by hand. Labels are kept by key (a hash of file,
message number and sentence), never the text: bench/data/followup_labels.tsv. A change to how
loops.py splits sentences changes the keys ("labelled" then drops below 40): label a new sample.

Usage: .venv/bin/python bench/eval_followups.py            # precision / recall on the labels
       .venv/bin/python bench/eval_followups.py --sample 60  # print a new sample to label
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mailbox
import random
import re
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import corpus
from fluffymail.crm.followups import loops

LABELS = Path(__file__).parent / "data" / "followup_labels.tsv"
FUTURE = re.compile(
    r"\b(i will|i'll|we will|we'll|let me|i am going to|i'm going to|we are going to)\b", re.I
)


def _held_out(sender: str) -> bool:
    return hashlib.sha1(sender.lower().encode()).digest()[0] % 2 == 1


def _text(message: Message) -> str:
    part = message
    if message.is_multipart():
        part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), None)
        if part is None:
            return ""
    payload = part.get_payload(decode=True) or b""
    return payload.decode(part.get_content_charset() or "latin-1", "replace")


def candidates() -> Iterator[tuple[str, str, str]]:
    """(key, kind, sentence) for every candidate sentence of the held-out senders' mail."""
    root = corpus.require("enron") / "enron" / "mbox"
    for path in sorted(root.glob("*/*.mbox")):
        for n, message in enumerate(mailbox.mbox(str(path))):
            sender = (message.get("From") or "").strip()
            if not _held_out(sender):
                continue
            for sentence in loops.sentences(_text(message)):
                for kind in _kinds(sentence):
                    raw = f"{path.relative_to(root)}|{n}|{sentence}".encode()
                    yield hashlib.sha1(raw).hexdigest()[:16], kind, sentence


def _kinds(sentence: str) -> list[str]:
    found = []
    if sentence.endswith("?") and len(sentence) < 400:
        found.append("question")
    if FUTURE.search(sentence) and len(sentence) < 400:
        found.append("promise")
    return found


def _rule(kind: str, sentence: str) -> bool:
    return loops.is_question(sentence) if kind == "question" else loops.is_promise(sentence)


def sample(size: int) -> None:
    """Print `size` random candidates of each kind (key, kind, rule, sentence) to label."""
    pool: dict[str, list[tuple[str, str, str]]] = {"question": [], "promise": []}
    for item in candidates():
        pool[item[1]].append(item)
    rng = random.Random(13)
    for kind, items in pool.items():
        for key, _, sentence in rng.sample(items, min(size, len(items))):
            print(f"{key}\t{kind}\t{int(_rule(kind, sentence))}\t{sentence}")


def score() -> dict[str, dict[str, float | int]]:
    labels = {}
    for line in LABELS.read_text().splitlines():
        if line and not line.startswith("#"):
            key, kind, label = line.split("\t")[:3]
            labels[(key, kind)] = int(label)
    found = {(key, kind): _rule(kind, s) for key, kind, s in candidates() if (key, kind) in labels}
    result = {}
    for kind in ("question", "promise"):
        pairs = [(found[k], labels[k]) for k in found if k[1] == kind]
        tp = sum(1 for r, t in pairs if r and t)
        fp = sum(1 for r, t in pairs if r and not t)
        fn = sum(1 for r, t in pairs if not r and t)
        result[kind] = {
            "labelled": len(pairs),
            "true": sum(t for _, t in pairs),
            "precision": round(tp / (tp + fp), 2) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 2) if tp + fn else 0.0,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="print this many candidates of each kind")
    args = parser.parse_args()
    if args.sample:
        sample(args.sample)
    else:
        print(json.dumps({"held_out_senders": score()}, indent=2))


if __name__ == "__main__":
    main()
