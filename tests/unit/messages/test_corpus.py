"""parse_message and the mailbox readers against the shared real-mail corpus (read in place)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from fluffymail.crm.messages import ParsedMessage, parse_message, thread_key
from fluffymail.integrations.mail.files import count_messages, iter_mbox, iter_source

ENRON_MESSAGES = 14_634
# Python's policy.default objects to obsolete-but-readable syntax here ("Sandy M. <...>",
# RFC 2231 titles, a blank folded To line); nothing a CRM needs is lost, so no problem.
HARMLESS_HEADER_DEFECTS = frozenset(
    {
        "mikel-mail/plain_emails/raw_email_trailing_dot.eml",
        "python-test_email/msg_29.txt",
        "mikel-mail/error_emails/new_line_in_to_header.eml",
    }
)


def _index(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "malformed" / "INDEX.tsv").open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _manifest(corpus: Path) -> dict[str, int]:
    with (corpus / "MANIFEST.tsv").open(newline="") as handle:
        return {row["path"]: int(row["messages"]) for row in csv.DictReader(handle, delimiter="\t")}


def test_malformed__every_file_parses_without_error(corpus: Path) -> None:
    rows = _index(corpus)
    assert len(rows) == 215
    for row in rows:
        msg = parse_message((corpus / "malformed" / row["file"]).read_bytes())
        assert not [p for p in msg.problems if p.startswith("parse-error")], row["file"]


def test_malformed__known_broken_files_report_problems(corpus: Path) -> None:
    for row in _index(corpus):
        msg = parse_message((corpus / "malformed" / row["file"]).read_bytes())
        features = row["features"].split(",")
        broken = row["python_mime_defects"] or row["python_header_defects"]
        if broken and row["file"] not in HARMLESS_HEADER_DEFECTS:
            assert msg.problems, row["file"]
        if row["python_mime_defects"]:
            assert any(p.startswith("broken-mime:") for p in msg.problems), row["file"]
        if "no-from" in features:
            assert "missing-header:from" in msg.problems, row["file"]
        if "no-message-id" in features:
            assert msg.message_id is None, row["file"]


def test_malformed__stdlib_structure_defects_are_reported_by_name(corpus: Path) -> None:
    structural = {"CloseBoundaryNotFoundDefect", "NoBoundaryInMultipartDefect"}
    for row in _index(corpus):
        expected = structural.intersection(row["python_mime_defects"].split(","))
        msg = parse_message((corpus / "malformed" / row["file"]).read_bytes())
        assert {f"broken-mime:{name}" for name in expected} <= set(msg.problems), row["file"]


def test_malformed__rfc2047_subjects_decode(corpus: Path) -> None:
    for row in _index(corpus):
        if "rfc2047" in row["features"].split(","):
            msg = parse_message((corpus / "malformed" / row["file"]).read_bytes())
            assert "=?utf-8?" not in msg.subject.lower(), row["file"]


@pytest.mark.parametrize(
    "relative",
    [
        "enron/mbox/allen-p/inbox.mbox",
        "enron/mbox/tholt-j/sent.mbox",
        "enron/mbox/richey-c/_root.mbox",
    ],
)
def test_enron__mbox_counts_match_manifest(corpus: Path, relative: str) -> None:
    expected = _manifest(corpus).get(relative)
    if expected is None:
        pytest.skip(f"{relative} not in MANIFEST.tsv")
    mails = list(iter_mbox(corpus / relative))
    assert len(mails) == expected
    assert count_messages(corpus / relative) == expected
    assert mails[0].source_id == f"{Path(relative).name}:0"
    assert not mails[0].raw.startswith(b"From ")


def test_enron__whole_corpus_streams_every_message(corpus: Path) -> None:
    folders: Counter[str] = Counter()
    total = 0
    for mail in iter_source(corpus / "enron"):
        total += 1
        folders[mail.folder] += 1
    assert total == ENRON_MESSAGES
    assert count_messages(corpus / "enron") == ENRON_MESSAGES
    assert folders["inbox"] > 0 and folders["all_documents"] > 0


def test_enron__maildir_folder_names(corpus: Path) -> None:
    mails = list(iter_source(corpus / "enron" / "maildir" / "swerzbin-m"))
    assert len(mails) == 355
    assert {m.folder for m in mails} >= {"inbox", "sent_items", "calendar", "to_do"}
    assert all(":2," not in m.source_id for m in mails)
    assert len({m.source_id for m in mails}) == len(mails)
    south = {m.folder for m in iter_source(corpus / "enron" / "maildir" / "south-s")}
    assert "inbox" not in south  # south-s has no root cur/: only .folders
    assert "southern_cone" in south


def test_enron__every_message_parses_cleanly(corpus: Path) -> None:
    parsed = [parse_message(m.raw) for m in iter_source(corpus / "enron" / "mbox" / "allen-p")]
    assert all(m.from_ is not None and m.date is not None for m in parsed)
    assert not [p for m in parsed for p in m.problems if p.startswith(("parse-error", "broken"))]


def _find(corpus: Path, mbox: str, subject: str) -> list[ParsedMessage]:
    path = corpus / "enron" / "mbox" / "allen-p" / mbox
    return [p for p in map(parse_message, (m.raw for m in iter_mbox(path))) if p.subject == subject]


@pytest.mark.parametrize(
    ("original", "reply", "subject"),
    [
        ("all_documents.mbox", "all_documents.mbox", "Talking points about California Gas market"),
        ("inbox.mbox", "sent_items.mbox", "Bishops Corner"),
        ("deleted_items.mbox", "sent_items.mbox", "workout"),
    ],
)
def test_enron__replies_share_a_thread_with_the_original(
    corpus: Path, original: str, reply: str, subject: str
) -> None:
    firsts = [m for m in _find(corpus, original, subject) if len(m.participants) == 2]
    answers = _find(corpus, reply, f"Re: {subject}") + _find(corpus, reply, f"RE: {subject}")
    assert firsts and answers, f"no original/reply pair for {subject!r}"
    pairs = [(a, b) for a in firsts for b in answers if thread_key(a) == thread_key(b)]
    assert pairs, f"no reply to {subject!r} shares the original's thread key"
    first, answer = pairs[0]
    assert first.from_ is not None and answer.from_ is not None
    assert first.from_.email != answer.from_.email  # B answering A, with no In-Reply-To
    assert thread_key(first).startswith("subj:")


def test_spamassassin__list_and_encoded_headers(corpus: Path) -> None:
    parsed = [parse_message(m.raw) for m in iter_source(corpus / "spamassassin" / "easy_ham")]
    assert len(parsed) == 1_877
    assert sum(1 for m in parsed if m.list_id) > 1_000
    assert not [p for m in parsed for p in m.problems if p.startswith("parse-error")]
    assert sum(1 for m in parsed if m.body_text.strip()) > 1_800
