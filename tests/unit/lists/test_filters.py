"""The saved-view filter language: terms, quoting, free words, and a reason for every filter
that does not parse."""

from __future__ import annotations

import shlex

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


@pytest.mark.parametrize(
    ("text", "search"),
    [
        ("o'brien", "o'brien"),
        ("d'Arcy o'neill", "d'Arcy o'neill"),
        ('"it\'s"', "it's"),
        ("it's", "it's"),
        ("'tis", "'tis"),
        ("o'brien's", "o'brien's"),
        ("rock'n'roll", "rock'n'roll"),
        ("'it's'", "it's"),
        ('say"hi', 'say"hi'),
        ('"a \\"quoted\\" word"', 'a "quoted" word'),
        ('"12:30" lunch', "12:30 lunch"),
        ("back\\slash", "back\\slash"),
    ],
)
def test_parse__apostrophes_in_words_are_letters(text: str, search: str) -> None:
    assert filters.parse(text) == ListFilter(search=search)


def test_parse__quoting_applies_to_a_value_and_words_together() -> None:
    parsed = filters.parse("o'brien tag:\"Kate's angels\" d'Arcy cold:no")
    assert parsed == ListFilter(search="o'brien d'Arcy", tag="Kate's angels", going_cold=False)
    assert filters.parse("tag:Kate's").tag == "Kate's"


@pytest.mark.parametrize(
    "value", ["Going cold", "Bob's", 'it\'s a "test"', "a 'b' c", "x:y", "back\\slash"]
)
def test_parse__reads_what_render_wrote_before(value: str) -> None:
    """Filters saved earlier were quoted by `shlex.quote`; they still mean the same tag."""
    assert filters.parse(f"tag:{shlex.quote(value)} cold:yes") == ListFilter(
        tag=value, going_cold=True
    )


@pytest.mark.parametrize(
    "search",
    [
        "o'brien",
        "d'Arcy",
        "it's",
        "'tis",
        "rock 'n' roll",
        'say "hi"',
        '"quoted',
        "12:30",
        "acme tag:x",
        "two  spaces",
        "back\\",
        "'",
        '"',
        'a\\"b',
    ],
)
def test_render__any_contacts_search_parses_back(search: str) -> None:
    """Whatever the contacts search accepts can be saved as a view."""
    value = ListFilter(search=search, tag='Kate\'s "angels"', going_cold=True)
    assert filters.parse(filters.render(value)) == value


@pytest.mark.parametrize(
    ("text", "renamed"),
    [
        ("tag:Investors", "tag:Backers"),
        ("cold:yes tag:investors acme", "cold:yes tag:Backers acme"),
        ("Investors  TAG:'Investors'  x", "Investors  TAG:Backers  x"),
        ('tag:"Investors" level:strong', "tag:Backers level:strong"),
    ],
)
def test_rename_tag__rewrites_only_the_tag_term(text: str, renamed: str) -> None:
    assert filters.rename_tag(text, "Investors", "Backers") == renamed


@pytest.mark.parametrize(
    "text", ["", "Investors", '"tag:Investors"', "tag:Investorsx", "tag:Other", 'tag:"open']
)
def test_rename_tag__leaves_other_filters(text: str) -> None:
    assert filters.rename_tag(text, "Investors", "Backers") is None


@pytest.mark.parametrize("new", ["Kate's angels", 'say "hi"', "a:b", "'lead"])
def test_rename_tag__quotes_the_new_name(new: str) -> None:
    text = filters.rename_tag("o'brien tag:Investors cold:yes", "investors", new)
    assert text is not None
    assert filters.parse(text) == ListFilter(search="o'brien", tag=new, going_cold=True)


def test_a_tag_is_named_as_it_is_kept__nfc_no_invisible_characters() -> None:
    assert filters.parse("tag:Cafe\u0301").tag == "Caf\u00e9"
    assert filters.parse('tag:"In\u200bvestors  fund"').tag == "Investors fund"
    assert filters.rename_tag("tag:CAFE\u0301 cold:yes", "Caf\u00e9", "Bistro") == (
        "tag:Bistro cold:yes"
    )
    with pytest.raises(FilterError, match="needs a value"):
        filters.parse("tag:\u200b")
