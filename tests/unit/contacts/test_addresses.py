"""Tests for fluffymail.crm.contacts.addresses."""

from __future__ import annotations

from email.parser import HeaderParser

import pytest

from fluffymail.crm.contacts import addresses


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Phillip.Allen@Enron.com", "phillip.allen@enron.com"),
        ("<phillip.allen@enron.com>", "phillip.allen@enron.com"),
        ("  'jane.tholt@enron.com'  ", "jane.tholt@enron.com"),
        ("\"'Jane.tholt@enron.com'\"", "jane.tholt@enron.com"),
        ("phillip.allen@enron.com.", "phillip.allen@enron.com"),
        ("mailto:Foo@Bar.COM", "foo@bar.com"),
        ("k..allen@enron.com", "k..allen@enron.com"),
        ("Allen, Phillip K. [mailto:Phillip.K.Allen@ENRON.com]", "phillip.k.allen@enron.com"),
        ("IMCEANOTES-ROBARY+40cs+2Ecom+40ENRON@ENRON.com", "robary@cs.com"),
    ],
)
def test_normalize_address__canonical_forms(raw: str, expected: str) -> None:
    result = addresses.normalize_address(raw)
    assert result is not None
    assert result.email == expected


def test_normalize_address__idn_domain_is_unicode_either_way() -> None:
    puny = addresses.normalize_address("Info@xn--bcher-kva.de")
    uni = addresses.normalize_address("info@BÜCHER.de")
    assert puny is not None and uni is not None
    assert puny.email == uni.email == "info@bücher.de"
    assert puny.ascii_domain == "xn--bcher-kva.de"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "   ",
        "Phillip Allen",
        "a@b",
        "no at sign",
        "two@@ats.com",
        "houston <.ward@enron.com>",
        "</O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>",
        "Phillip K Allen/HOU/ECT@ECT",
        "IMCEANOTES-Corporate+20Benefits+40ENRON@ENRON.com",
        "x" * 5000 + "@example.com",
    ],
)
def test_normalize_address__junk_is_none(raw: str | None) -> None:
    assert addresses.normalize_address(raw) is None


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>", "Allen, Phillip K."),
        ("Phillip K Allen/HOU/ECT@ECT", "Phillip K Allen"),
        ("Tim Belden <Tim Belden/HOU/ECT@ECT>", "Tim Belden"),
        ("IMCEANOTES-Corporate+20Benefits+40ENRON@ENRON.com", "Corporate Benefits"),
        (
            "ENA Public Relations@ENRON <IMCEANOTES-ENA+20Public+20Relations+40ENRON@ENRON.com>",
            "ENA Public Relations",
        ),
    ],
)
def test_legacy_display_name__extracts_person(raw: str, name: str) -> None:
    assert addresses.is_non_routable(raw) or "<" in raw
    assert addresses.legacy_display_name(raw) == name


def test_legacy_display_name__plain_address_is_none() -> None:
    assert addresses.legacy_display_name("phillip.allen@enron.com") is None
    assert addresses.legacy_display_name("") is None


@pytest.mark.timeout(60)  # a bound on hanging (a quadratic split), not a speed assertion
def test_split_address_list__ten_thousand_recipients() -> None:
    header = ", ".join(f"User {i} <user{i}@example.com>" for i in range(10_000))
    pairs = addresses.split_address_list(header)
    normalized = [addresses.normalize_address(addr) for _, addr in pairs]
    assert len(pairs) == 10_000
    assert all(n is not None for n in normalized)


def test_split_address_list__empty() -> None:
    assert addresses.split_address_list("") == []
    assert addresses.split_address_list(None) == []


def test_normalize_address__every_enron_from_address(corpus) -> None:
    """Every bare From address in one real mailbox normalizes (Enron From: holds addresses)."""
    text = (corpus / "enron" / "mbox" / "allen-p" / "inbox.mbox").read_text(
        encoding="utf-8", errors="replace"
    )
    heads = [
        chunk.split("\n", 1)[1].split("\n\n", 1)[0]
        for chunk in text.split("From MAILER-DAEMON ")[1:]
    ]
    froms = [str(HeaderParser().parsestr(head)["From"] or "") for head in heads]
    assert froms
    failures = [f for f in froms if addresses.normalize_address(f) is None]
    assert len(failures) / len(froms) < 0.02, failures[:10]
