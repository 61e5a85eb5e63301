"""The saved-view filter language: terms, quoting, free words, and a reason for every filter
that does not parse."""

from __future__ import annotations

import pytest

from fluffymail.crm.lists import filters
from fluffymail.crm.lists.filters import FilterError, ListFilter


def test_parse__terms_and_free_words() -> None:
    parsed = filters.parse('tag:"Going cold" level:Strong cold:yes people:external acme board')
    assert parsed == ListFilter(
        search="acme board", tag="Going cold", level="strong", going_cold=True, internal=False
    )


def test_parse__empty_means_everyone() -> None:
    assert filters.parse("   ") == ListFilter()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("colour:red", "unknown filter “colour:”"),
        ('tag:"open', "quote"),
        ("level:warm", "level must be one of"),
        ("cold:perhaps", "cold: must be one of"),
        ("people:aliens", "people: must be one of"),
        ("tag:a tag:b", "can be given once"),
        ("tag:", "needs a value"),
        ("company:acme", "takes a domain"),
        ("x" * 1001, "at most 1000"),
    ],
)
def test_parse__refuses_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(FilterError, match=reason):
        filters.parse(text)


@pytest.mark.parametrize(
    "value",
    [
        ListFilter(),
        ListFilter(tag="Investors going cold", going_cold=True),
        ListFilter(level="very weak", internal=True, company="acme.com", search="maya"),
        ListFilter(tag='say "hi"', going_cold=False, internal=False),
    ],
)
def test_render__parses_back_to_itself(value: ListFilter) -> None:
    assert filters.parse(filters.render(value)) == value
