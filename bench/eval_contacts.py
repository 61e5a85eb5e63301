"""Scores the pure contact rules (fluffymail.crm.contacts) against the corpus ground truth.

Run: ``.venv/bin/python bench/eval_contacts.py`` (corpus at ``<repo>/../shared/corpus`` or
``$FLUFFYMAIL_CORPUS``). Prints one figure per line and exits 1 when a figure misses its bar.
Bulk mail without List-* headers (issue 12) is measured by ``bulk_eval.py`` (held out by sender).
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import bulk_eval
import corpus
from fluffymail.crm.contacts import addresses, automated, companies, names, signatures
from fluffymail.crm.messages.parse import parse_message

_HEADER_PARSER = BytesHeaderParser(policy=compat32)
_PHONE_REF = re.compile(r"\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}")
_EMAIL_IN_SENDER = re.compile(r"[\w.\-+']+@[\w.\-]+\.[A-Za-z]{2,}")
csv.field_size_limit(10_000_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    name: str
    value: float
    bar: float | None = None
    fmt: str = "{:.3f}"

    @property
    def ok(self) -> bool:
        return self.bar is None or self.value >= self.bar

    def line(self) -> str:
        value = self.fmt.format(self.value)
        if self.bar is None:
            return f"{self.name} {value}  info"
        return f"{self.name} {value}  bar>={self.bar:.2f}  {'ok' if self.ok else 'FAIL'}"


def corpus_root() -> Path:
    return corpus.require("ground_truth")


# --- Enron: display names per address -------------------------------------------------


def iter_enron_headers(root: Path) -> Iterator[dict[str, str]]:
    """Header dicts of every Enron message (mbox files and Maildir files), streaming."""
    for mbox in sorted((root / "enron" / "mbox").glob("*/*.mbox")):
        yield from _iter_mbox_headers(mbox)
    for path in sorted((root / "enron" / "maildir").rglob("*")):
        if path.is_file() and path.parent.name in {"cur", "new"}:
            yield _headers(path.read_bytes())


def _iter_mbox_headers(path: Path) -> Iterator[dict[str, str]]:
    chunk: list[bytes] = []
    in_headers = False
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"From MAILER-DAEMON "):
                if chunk:
                    yield _headers(b"".join(chunk))
                chunk, in_headers = [], True
            elif in_headers:
                if line in (b"\n", b"\r\n"):
                    in_headers = False
                chunk.append(line)
    if chunk:
        yield _headers(b"".join(chunk))


def _headers(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\n\n", 1)[0]
    message = _HEADER_PARSER.parsebytes(head)
    return {k.lower(): " ".join(str(v).split()) for k, v in message.items()}


def gather_display_names(root: Path) -> dict[str, Counter[str]]:
    """address -> Counter of display names, pairing From/X-From and single To/X-To, Cc/X-cc,
    and, as extraction does, each of several To/Cc addresses without a name of its own with
    the X-To/X-cc entry at its position when the counts agree."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for headers in iter_enron_headers(root):
        for field, x_field in (("from", "x-from"), ("to", "x-to"), ("cc", "x-cc")):
            pairs = addresses.split_address_list(headers.get(field, ""))
            legacy = headers.get(x_field, "")
            if len(pairs) == 1:
                names_ = [legacy or pairs[0][0]]
            elif len(pairs) <= automated.MAX_HUMAN_RECIPIENTS:
                entries = addresses.split_legacy_names(legacy)
                aligned = entries if len(entries) == len(pairs) else [""] * len(pairs)
                names_ = [own or entry for (own, _), entry in zip(pairs, aligned, strict=True)]
            else:
                continue
            for (_, raw), display in zip(pairs, names_, strict=True):
                norm = addresses.normalize_address(raw)
                if norm is not None and display:
                    seen[norm.email][display] += 1
    return seen


def load_name_truth(root: Path) -> dict[str, str]:
    truth: dict[str, str] = {}
    with (root / "ground_truth" / "enron_address_names.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            norm = addresses.normalize_address(row["address"])
            key = norm.email if norm else row["address"].lower()
            truth[key] = row["name_normalized"].strip()
    return truth


def _cmp(name: str) -> str:
    """Strict comparison: case, dots and spacing ignored."""
    return " ".join(name.replace(".", " ").casefold().split())


def _relaxed(name: str) -> str:
    """Token-set comparison: also ignores order, commas, apostrophes and (...)/[...] notes.

    The ground truth's own normalisation leaves ``O Neil, Murray P.`` and
    ``Purtzki, Emily (CA - Calgary)`` unreordered; this compares the same tokens.
    """
    name = re.sub(r"\\?\([^)]*\)|\[[^\]]*\]|\s-\s[A-Z0-9\-]*\d[A-Z0-9\-]*$", " ", name)
    return " ".join(sorted(re.sub(r"[.,'’]", " ", name).casefold().split()))


def name_figures(root: Path) -> tuple[list[Figure], dict[str, names.PersonName | None]]:
    truth = load_name_truth(root)
    seen = gather_display_names(root)
    predicted = {a: names.best_name(seen.get(a, Counter()).items(), a) for a in truth}
    usable = {a: n for a, n in truth.items() if n}
    exact = strict = role_agree = person_total = person_exact = 0
    for address, gold in usable.items():
        guess = predicted[address]
        gold_is_person = names.parse_display_name(gold, address) is not None
        person_total += gold_is_person
        strict += guess is not None and _cmp(guess.full) == _cmp(gold)
        if guess is not None and _relaxed(guess.full) == _relaxed(gold):
            exact += 1
            person_exact += gold_is_person
        elif guess is None and not gold_is_person:
            role_agree += 1
    total = len(usable)
    figures = [
        Figure(name="name_accuracy", value=(exact + role_agree) / total, bar=0.90),
        Figure(name="name_match_share", value=exact / total),
        Figure(name="name_strict_match_share", value=strict / total),
        Figure(name="name_role_rejected_share", value=role_agree / total),
        Figure(name="name_accuracy_person_names", value=person_exact / max(person_total, 1)),
        Figure(name="name_addresses_scored", value=total, fmt="{:.0f}"),
    ]
    return figures, predicted


def alias_figures(root: Path, predicted: dict[str, names.PersonName | None]) -> list[Figure]:
    """Known multi-address people = ground-truth rows sharing a person name key."""
    truth = load_name_truth(root)
    gold_groups: dict[str, list[str]] = defaultdict(list)
    for address, gold in truth.items():
        parsed = names.parse_display_name(gold, address) if gold else None
        if parsed is not None and parsed.quality is names.NameQuality.FULL:
            gold_groups[parsed.key].append(address)
    gold_pairs = {(a, b) for group in gold_groups.values() for a in group for b in group if a < b}
    same_domain = {p for p in gold_pairs if _company(p[0]) and _company(p[0]) == _company(p[1])}
    ours = {p for p in _rule_pairs(predicted) if p[0] in truth and p[1] in truth}
    recovered = same_domain & ours
    return [
        Figure(
            name="alias_people_with_several_addresses",
            value=sum(1 for g in gold_groups.values() if len(g) > 1),
            fmt="{:.0f}",
        ),
        Figure(name="alias_pairs_total", value=len(gold_pairs), fmt="{:.0f}"),
        Figure(name="alias_pairs_same_company_domain", value=len(same_domain), fmt="{:.0f}"),
        Figure(
            name="alias_pairs_recovered_same_name_same_domain", value=len(recovered), fmt="{:.0f}"
        ),
        Figure(name="alias_recall_same_domain", value=len(recovered) / max(len(same_domain), 1)),
        Figure(name="alias_merge_precision", value=len(ours & gold_pairs) / max(len(ours), 1)),
    ]


def _company(address: str) -> str | None:
    found = companies.company_domain(address)
    return found.domain if found else None


def _rule_pairs(predicted: dict[str, names.PersonName | None]) -> set[tuple[str, str]]:
    """Pairs our rule merges: same full-name key at the same company domain (a full display
    name, or a name the address spells out: `names.is_spelled_out`; a one-word name is no
    evidence), unless the middle initials differ (`names.middles_differ`)."""
    buckets: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for address, name in predicted.items():
        domain = _company(address)
        if name is None or not domain:
            continue
        if name.quality is names.NameQuality.FULL or names.is_spelled_out(name):
            buckets[(name.key, domain)].append((address, name.full))
    return {
        (a, b)
        for group in buckets.values()
        for a, x in group
        for b, y in group
        if a < b and not names.middles_differ(x, y)
    }


# --- forge signatures --------------------------------------------------------------------
#
# The headline is held out by sender: the senders are split into folds; for each fold the
# detector's limits (signatures.SignatureRules) are chosen on the other folds' senders and the
# fold is scored with them, so no sender is scored by limits picked while looking at its mail.
# The in-sample figure (the default limits on every sender) is printed beside it for contrast.

SIGNATURE_FOLDS = 5
RULE_GRID = [
    signatures.SignatureRules(
        max_lines=lines, max_line_len=width, max_anchor_len=anchor, lone_name_window=window
    )
    for lines in (6, 8, 10, 12, 15)
    for width in (60, 80, 100)
    for anchor in (30, 40, 50)
    for window in (2, 3, 4, 6)
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCase:
    sender: str  # the sender's address (or display name): the unit a fold holds out
    text: str
    display: str
    email: str | None
    gold: frozenset[int]
    lines: tuple[str, ...]


@dataclass(slots=True)
class LineCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: LineCounts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / max(p + r, 1e-9)


def signature_cases(root: Path) -> list[SignatureCase]:
    base = root / "ground_truth" / "forge_signatures"
    cases = []
    for label in ("P", "N"):
        for body in sorted((base / label).glob("*_body")):
            lines = body.read_text(encoding="utf-8", errors="replace").splitlines()
            sender = (
                (base / label / body.name.replace("_body", "_sender"))
                .read_text(encoding="utf-8", errors="replace")
                .strip()
            )
            match = _EMAIL_IN_SENDER.search(sender)
            display = sender.split("<", 1)[0].split("[", 1)[0].strip(' "')
            cases.append(
                SignatureCase(
                    sender=match.group(0).lower() if match else display.lower(),
                    text="\n".join(line.removeprefix("#sig#") for line in lines),
                    display=display,
                    email=match.group(0) if match else None,
                    gold=frozenset(
                        i
                        for i, line in enumerate(lines)
                        if line.startswith("#sig#") and line[5:].strip()
                    ),
                    lines=tuple(lines),
                )
            )
    return cases


def _detect(case: SignatureCase, rules: signatures.SignatureRules) -> signatures.Signature | None:
    return signatures.extract_signature(
        case.text, case.display, sender_email=case.email, rules=rules
    )


def _counts(case: SignatureCase, sig: signatures.Signature | None) -> LineCounts:
    pred = set(sig.line_numbers) if sig else set()
    return LineCounts(len(case.gold & pred), len(pred - case.gold), len(case.gold - pred))


def _folds(cases: list[SignatureCase]) -> list[set[str]]:
    """Senders dealt into folds by a stable hash, so every run splits the same way."""
    folds: list[set[str]] = [set() for _ in range(SIGNATURE_FOLDS)]
    for sender in sorted({c.sender for c in cases}):
        folds[int(hashlib.sha256(sender.encode()).hexdigest(), 16) % SIGNATURE_FOLDS].add(sender)
    return [fold for fold in folds if fold]


def signature_figures(root: Path) -> list[Figure]:
    cases = signature_cases(root)
    table = [[_counts(case, _detect(case, rules)) for case in cases] for rules in RULE_GRID]
    held_out = LineCounts()
    for fold in _folds(cases):
        train = [k for k, c in enumerate(cases) if c.sender not in fold]
        test = [k for k, c in enumerate(cases) if c.sender in fold]
        best = max(range(len(RULE_GRID)), key=lambda r: (_sum(table[r], train).f1, -r))
        held_out.add(_sum(table[best], test))
    in_sample = _sum(
        [_counts(c, _detect(c, signatures.DEFAULT_RULES)) for c in cases], range(len(cases))
    )
    per_sender = _macro_by_sender(cases, signatures.DEFAULT_RULES)
    return [
        Figure(name="signature_line_f1_senders_out", value=held_out.f1, bar=0.90),
        Figure(name="signature_line_precision_senders_out", value=held_out.precision),
        Figure(name="signature_line_recall_senders_out", value=held_out.recall),
        Figure(name="signature_line_f1_in_sample", value=in_sample.f1),
        Figure(name="signature_line_f1_mean_per_sender", value=per_sender),
        Figure(name="signature_senders", value=len({c.sender for c in cases}), fmt="{:.0f}"),
        *_signature_field_figures(cases),
    ]


def _sum(counts: list[LineCounts], indices: Iterable[int]) -> LineCounts:
    total = LineCounts()
    for k in indices:
        total.add(counts[k])
    return total


def _macro_by_sender(cases: list[SignatureCase], rules: signatures.SignatureRules) -> float:
    """F1 per sender (with any signature line in truth or found), averaged: one prolific sender
    weighs no more than any other."""
    by_sender: dict[str, LineCounts] = defaultdict(LineCounts)
    for case in cases:
        by_sender[case.sender].add(_counts(case, _detect(case, rules)))
    scored = [c.f1 for c in by_sender.values() if c.tp + c.fp + c.fn]
    return sum(scored) / max(len(scored), 1)


def _signature_field_figures(cases: list[SignatureCase]) -> list[Figure]:
    phones_ref = phones_found = titles = names_found = positives = 0
    for case in cases:
        if not case.gold:
            continue
        sig = _detect(case, signatures.DEFAULT_RULES)
        positives += 1
        refs = {
            re.sub(r"\D", "", m)[-10:] for i in case.gold for m in _PHONE_REF.findall(case.lines[i])
        }
        ours = {p.e164[-10:] for p in sig.phones} if sig else set()
        phones_ref += len(refs)
        phones_found += len(refs & ours)
        titles += bool(sig and sig.title)
        names_found += bool(sig and sig.name)
    return [
        Figure(name="signature_phone_recall", value=phones_found / max(phones_ref, 1)),
        Figure(name="signature_phones_in_truth", value=phones_ref, fmt="{:.0f}"),
        Figure(name="signature_with_title_share", value=titles / max(positives, 1)),
        Figure(name="signature_with_name_share", value=names_found / max(positives, 1)),
    ]


# --- SpamAssassin -------------------------------------------------------------------------


def spamassassin_figures(root: Path) -> list[Figure]:
    base = root / "spamassassin"
    ham = [_classify(p) for p in sorted((base / "easy_ham").iterdir()) if p.is_file()]
    spam = [_classify(p) for p in sorted((base / "spam").iterdir()) if p.is_file()]
    listed = [reason for has_list_id, reason, _ in ham if has_list_id]
    return [
        Figure(name="easy_ham_list_mail_flagged", value=_share(listed), bar=0.95),
        Figure(name="easy_ham_list_mail_messages", value=len(listed), fmt="{:.0f}"),
        Figure(name="easy_ham_all_flagged_automated", value=_share([r for _, r, _ in ham])),
        Figure(name="spam_flagged_automated", value=_share([r for _, r, _ in spam])),
        # with the bulk signals that need no List-* header (issue 12; see bulk_eval.py)
        Figure(name="spam_flagged_automated_or_bulk", value=_share([r or b for _, r, b in spam])),
        Figure(
            name="easy_ham_all_flagged_automated_or_bulk", value=_share([r or b for _, r, b in ham])
        ),
        # Policy "sent": a contact needs mail the user sent to them; the corpus has no sent
        # mail to spam senders, so this is 0 by construction, not by filtering.
        Figure(name="spam_senders_becoming_contacts_policy_sent", value=0, fmt="{:.0f}"),
    ]


def _classify(path: Path) -> tuple[bool, automated.AutomatedReason | None, str | None]:
    raw = path.read_bytes()
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1]
    signal = parse_message(raw).bulk_signal
    headers = _headers(raw)
    sender = addresses.split_address_list(headers.get("from", ""))
    recipients = addresses.split_address_list(f"{headers.get('to', '')}, {headers.get('cc', '')}")
    reason = automated.is_automated(headers, sender[0][1] if sender else None, len(recipients))
    return bool(headers.get("list-id")), reason, signal


def _share(reasons: list[str | None]) -> float:
    return sum(r is not None for r in reasons) / max(len(reasons), 1)


def main() -> int:
    root = corpus_root()
    started = time.perf_counter()
    figures: list[Figure] = []
    predicted: dict[str, names.PersonName | None] = {}
    sections = (
        ("names", ("enron", "ground_truth/enron_address_names.tsv"), lambda: name_figures(root)),
        ("aliases", ("ground_truth/enron_address_names.tsv",), lambda: (alias_figures(root, predicted), {})),
        ("signatures", ("ground_truth/forge_signatures",), lambda: (signature_figures(root), {})),
        ("spamassassin", ("spamassassin/easy_ham", "spamassassin/spam"),
         lambda: (spamassassin_figures(root), {})),
        ("bulk", ("spamassassin/easy_ham", "spamassassin/spam", "enron"), lambda: (_bulk_figures(root), {})),
    )  # fmt: skip
    for name, needs, compute in sections:
        missing = [n for n in needs if not (root / n).exists()]
        if missing:  # a partial corpus is scored on what exists (the script never crashes)
            print(f"# {name}: skipped, not in the corpus: {', '.join(missing)}")
            continue
        found, more = compute()
        figures += found
        predicted.update(more)
    for figure in figures:
        print(figure.line())
    print(f"elapsed_seconds {time.perf_counter() - started:.1f}  info")
    return 0 if all(f.ok for f in figures) else 1


def _bulk_figures(root: Path) -> list[Figure]:
    return [
        Figure(name=name, value=value, bar=bar, fmt=fmt)
        for name, value, bar, fmt in bulk_eval.figures(root)
    ]


if __name__ == "__main__":
    raise SystemExit(main())
