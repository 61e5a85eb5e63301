"""Tests for fluffymail.crm.contacts.names."""

from __future__ import annotations

import csv

import pytest

from fluffymail.crm.contacts import names


@pytest.mark.parametrize(
    ("display", "email", "full"),
    [
        ("Phillip K Allen", "phillip.allen@enron.com", "Phillip K Allen"),
        (
            "Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>",
            "k..allen@enron.com",
            "Phillip K. Allen",
        ),
        (
            "Phillip K Allen <Phillip K Allen/HOU/ECT@ECT>",
            "phillip.allen@enron.com",
            "Phillip K Allen",
        ),
        ('"Jeff Smith" <jsmith@austintx.com> @ ENRON', "jsmith@austintx.com", "Jeff Smith"),
        ("PHILLIP K ALLEN", "p@example.com", "Phillip K Allen"),
        ("kristen iles", "k@example.com", "Kristen Iles"),
        ("Cheung  Joseph", "joseph.cheung@petro-canada.ca", "Joseph Cheung"),
        ("Williams III, Bill", "bill.williams@enron.com", "Bill Williams III"),
        ("Nichols, Lauren - T-DITT2", "lauren.nichols@enron.com", "Lauren Nichols"),
        ("Meyers", "bert.meyers@enron.com", "Bert Meyers"),
    ],
)
def test_parse_display_name__people(display: str, email: str, full: str) -> None:
    name = names.parse_display_name(display, email)
    assert name is not None
    assert name.full == full


@pytest.mark.parametrize(
    "display",
    [
        "Enron Announcements",
        "DL-Portland World Trade Center",
        "Yahoo! Alerts - Breaking News",
        "Office of the Chairman",
        "Portland West Desk",
        "info",
    ],
)
def test_parse_display_name__role_names_are_not_people(display: str) -> None:
    assert names.parse_display_name(display, "someone@enron.com") is None


def test_parse_display_name__address_as_name_uses_local_part() -> None:
    name = names.parse_display_name("'jane.tholt@enron.com'", "jane.tholt@enron.com")
    assert name is not None
    assert (name.full, name.quality) == ("Jane Tholt", names.NameQuality.DERIVED)


@pytest.mark.parametrize(
    ("email", "full"),
    [
        ("phillip.allen@enron.com", "Phillip Allen"),
        ("k..allen@enron.com", "K. Allen"),
        ("mary_jane.watson@example.com", "Mary Jane Watson"),
    ],
)
def test_parse_display_name__derived_from_local_part(email: str, full: str) -> None:
    name = names.parse_display_name(None, email)
    assert name is not None
    assert name.full == full


@pytest.mark.parametrize("email", ["pallen70@hotmail.com", "noreply@example.com", "info@x.com"])
def test_parse_display_name__underivable_local_parts(email: str) -> None:
    assert names.parse_display_name("", email) is None


def test_parse_display_name__empty_inputs() -> None:
    assert names.parse_display_name("", "") is None
    assert names.parse_display_name(None, None) is None
    assert names.parse_display_name("   ", None) is None


def test_best_name__full_beats_partial_and_derived() -> None:
    best = names.best_name(
        [("pallen@enron.com", 113), ("Phillip Allen <pallen@enron.com>", 8), ("Phil", 50)],
        "pallen@enron.com",
    )
    assert best is not None
    assert best.full == "Phillip Allen"


def test_best_name__most_support_wins_within_quality() -> None:
    best = names.best_name(
        [("Phillip K Allen", 2203), ("Allen, Phillip </O=ENRON/OU=NA/CN=RECIPIENTS/CN=X>", 1)],
        "phillip.allen@enron.com",
    )
    assert best is not None
    assert best.full == "Phillip K Allen"


def test_best_name__mostly_role_names_is_none() -> None:
    candidates = [("Corporate Benefits@ENRON", 33), ("Enron In Action", 2)]
    assert names.best_name(candidates, "no.address@enron.com") is None


def test_best_name__no_candidates_falls_back_to_local_part() -> None:
    best = names.best_name([], "mike.grigsby@enron.com")
    assert best is not None
    assert best.full == "Mike Grigsby"


def test_parse_display_name__ground_truth_people(corpus) -> None:
    """The top ground-truth names (support >= 50) parse back to themselves."""
    path = corpus / "ground_truth" / "enron_address_names.tsv"
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if int(r["support"]) >= 50]
    people = [r for r in rows if names.parse_display_name(r["name_normalized"], r["address"])]
    assert len(people) >= 20
    for row in people:
        parsed = names.parse_display_name(row["name_normalized"], row["address"])
        assert parsed is not None
        assert (
            parsed.full.replace(".", "").casefold()
            == row["name_normalized"].replace(".", "").casefold()
        )
