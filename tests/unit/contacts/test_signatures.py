"""Tests for fluffymail.crm.contacts.signatures."""

from __future__ import annotations

import pytest

from fluffymail.crm.contacts import signatures
from fluffymail.crm.contacts.signatures import PhoneKind

_OH = """Realtime group-
This occurs when your H drive is not mapped.

Hope this helps!

John Oh
Enron North America\t\t503.464.5066
121 SW Salmon Street\t\t503.701.1160 (cell)
3WTC 0306\t\t\t503.464.3740 (fax)
Portland, OR 97204\t\t\tJohn.Oh@Enron.com"""


def test_extract_signature__fields_and_span() -> None:
    sig = signatures.extract_signature(_OH, "Oh  John", sender_email="John.Oh@ENRON.com")
    assert sig is not None
    assert (sig.start_line, sig.end_line) == (5, 9)
    assert sig.name == "John Oh"
    assert sig.company == "Enron North America"
    assert {p.e164: p.kind for p in sig.phones} == {
        "+15034645066": PhoneKind.UNKNOWN,
        "+15037011160": PhoneKind.MOBILE,
        "+15034643740": PhoneKind.FAX,
    }
    assert sig.emails == ("john.oh@enron.com",)
    assert sig.postal_address is not None and "OR 97204" in sig.postal_address


def test_extract_signature__signoff_then_name_and_title() -> None:
    body = (
        "Pls confirm that you have received your new calling card.\n\n"
        "Thanks,\nCarolyn Graham\nVendor Manager\nAcme Widgets, Inc.\n"
        "www.acme.example | https://www.linkedin.com/in/cgraham | https://github.com/cg\n"
        "Tel: +44 20 7946 0958\n"
    )
    sig = signatures.extract_signature(body, "Graham, Carolyn", sender_email="c@acme.co.uk")
    assert sig is not None
    assert sig.start_line == 2
    assert sig.title == "Vendor Manager"
    assert sig.company == "Acme Widgets, Inc."
    assert sig.linkedin == "https://www.linkedin.com/in/cgraham"
    assert sig.github == "https://github.com/cg"
    assert sig.website == "www.acme.example"
    assert sig.phones[0].e164 == "+442079460958"
    assert sig.phones[0].kind is PhoneKind.OFFICE


def test_extract_signature__dash_dash_delimiter() -> None:
    body = "See you at 5.\n\n-- \nAlice Example\nhttps://twitter.com/alice\n"
    sig = signatures.extract_signature(body)
    assert sig is not None
    assert sig.start_line == 3
    assert sig.twitter == "https://twitter.com/alice"


@pytest.mark.parametrize("rule", ["_______________", "----------", "=========="])
def test_extract_signature__after_a_drawn_separator(rule: str) -> None:
    body = f"The contract is attached.\n\n{rule}\nPriya Raman\nCredit Analyst\n(555) 014-2291\n"
    sig = signatures.extract_signature(body, "Raman, Priya", sender_email="p.raman@mail.test")
    assert sig is not None
    assert sig.start_line == 3 and sig.title == "Credit Analyst"


def test_a_separator_before_a_forwarded_header__is_quoted_history_not_a_signature() -> None:
    body = (
        "FYI below.\n\nLee\n\n________________________________\n"
        "From: Someone Else\nSent: Monday\nTo: Lee\nSubject: Rates\n\nRates up.\n"
    )
    sig = signatures.extract_signature(body, "Lee Park", sender_email="lee@mail.test")
    assert sig is not None and sig.end_line == 2  # "Lee", above the forwarded message


def test_machine_generated_report_lines__are_not_a_signature() -> None:
    body = (
        "Daily position report\n\n"
        "Desk     Long    Short   Net\n"
        "Gas      1,200   800     400\n"
        "Power    950     1,010   -60\n"
        "Page 1 of 1\n"
        "Generated on 10/02/2001 06:00\n"
    )
    assert signatures.extract_signature(body, "Risk Reports", sender_email="r@mail.test") is None


@pytest.mark.parametrize("closing", ["Q3 Budget Summary", "Meeting Agenda", "Attachments"])
def test_a_document_title_at_the_end__is_not_a_name(closing: str) -> None:
    body = f"Please review before Friday.\n\n{closing}\n"
    assert signatures.extract_signature(body, "Dana Lee", sender_email="dana@mail.test") is None


@pytest.mark.parametrize("closing", ["JB", "- M", "J.B."])
def test_lone_initials__are_not_a_signature(closing: str) -> None:
    body = f"Sounds good, let's do it.\n\n{closing}\n"
    assert signatures.extract_signature(body, "Dana Lee", sender_email="dana@mail.test") is None


def test_a_lone_first_name_after_the_text__still_is() -> None:
    body = "Sounds good, let's do it.\n\nMarta\n"
    sig = signatures.extract_signature(body, "Marta Rossi", sender_email="m@mail.test")
    assert sig is not None and sig.start_line == 2


def test_rules__are_the_tunable_limits() -> None:
    body = "Done.\n\nThanks,\nAl Bo\nLine 3\nLine 4\nLine 5\nLine 6\n"
    assert signatures.extract_signature(body, "Al Bo") is not None
    narrow = signatures.SignatureRules(max_lines=3)
    assert signatures.extract_signature(body, "Al Bo", rules=narrow) is None


def test_extract_signature__ignores_quoted_history() -> None:
    body = (
        "Sounds good.\n\nRegards,\nBert\n\n"
        " -----Original Message-----\nFrom: \tSomeone\nSent:\tMonday\n\n"
        "Old text\n\nThanks,\nSomeone Else\n555-555-1234\n"
    )
    sig = signatures.extract_signature(body, "Meyers, Bert", sender_email="bert.meyers@enron.com")
    assert sig is not None
    assert (sig.start_line, sig.end_line) == (2, 3)


def test_extract_signature__notes_forward_is_cut() -> None:
    body = (
        "FYI\n\nPhillip\n"
        "---------------------- Forwarded by Phillip K Allen/HOU/ECT on 10/12/2000 ---\n"
        "Tim Belden\nPortland\n"
    )
    sig = signatures.extract_signature(body, "Phillip K Allen")
    assert sig is not None
    assert (sig.start_line, sig.end_line) == (2, 2)


def test_extract_signature__no_signature() -> None:
    assert signatures.extract_signature("Please call me back.", "Ring, Andrea") is None
    assert signatures.extract_signature("Thank You!", None) is None
    assert signatures.extract_signature("", None) is None
    assert signatures.extract_signature(None, None) is None


@pytest.mark.timeout(60)  # a bound on hanging (a quadratic scan), not a speed assertion
def test_extract_signature__huge_body_is_bounded() -> None:
    body = "word\n" * 400_000 + "\nThanks,\nBob"
    signatures.extract_signature(body, "Bob Smith")  # tail beyond 200k chars is ignored


def _load(path):
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    gold = {i for i, line in enumerate(lines) if line.startswith("#sig#") and line[5:].strip()}
    return "\n".join(line.removeprefix("#sig#") for line in lines), gold


def test_extract_signature__forge_ground_truth(corpus) -> None:
    """Line-level F1 on the hand-marked forge signatures stays above the product bar."""
    base = corpus / "ground_truth" / "forge_signatures"
    tp = fp = fn = 0
    for body in sorted(base.glob("[PN]/*_body")):
        text, gold = _load(body)
        sender = body.with_name(body.name.replace("_body", "_sender")).read_text(
            encoding="utf-8", errors="replace"
        )
        sig = signatures.extract_signature(text, sender.split("<", 1)[0].strip(' "\n'))
        pred = set(sig.line_numbers) if sig else set()
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert 2 * precision * recall / (precision + recall) >= 0.85
