"""Company details from signature facts: only a name that agrees with the company's domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fluffymail.crm.contacts.enrichment import company_update
from fluffymail.crm.contacts.repo import Fact

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def company(value: str, days_ago: int = 0) -> Fact:
    return Fact(field="company", value=value, source="signature", confidence=0.9,
                observed_on=NOW - timedelta(days=days_ago))  # fmt: skip


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("Enron North America Corp.", "enron.com"),
        ("Northwind Traders Inc.", "northwindtraders.com"),
        ("Goldman Sachs & Co.", "goldmansachs.com"),
        ("Northwind Traders Inc.", "northwind-traders.com"),
    ],
)
def test_a_signature_name_that_spells_the_domain_is_taken(value: str, domain: str) -> None:
    assert company_update([company(value)], domain).name == value


def test_a_name_unrelated_to_the_domain_is_ignored_and_the_newest_wins() -> None:
    assert company_update([company("Globex Ltd")], "initech.com").name is None
    facts = [company("Initech", 10), company("Initech Corp", 1)]
    assert company_update(facts, "initech.com").name == "Initech Corp"
