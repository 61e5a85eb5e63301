"""The adjacent word pairs a phrase search requires (the `pairs` pre-filter of
0031_message_search_table.sql), and the words a search of words joined by AND requires, read
from PostgreSQL's text form of the tsquery."""

from __future__ import annotations

from fluffymail.web.services.message_search import conjunction, phrase_pairs


def test_phrase_pairs__words_chained_by_the_phrase_operator() -> None:
    assert phrase_pairs("'gas' <-> 'price'") == [("gas", "price")]
    assert phrase_pairs("'it' <-> 's' <-> 'here'") == [("it", "s"), ("s", "here")]
    assert phrase_pairs("'gas' <-> 'price' & 'oil'") == [("gas", "price")]
    assert phrase_pairs("'a' & 'b' <-> 'c'") == [("b", "c")]
    assert phrase_pairs("'o''neil' <-> 'x'") == [("o'neil", "x")]  # a quote inside a word
    assert phrase_pairs("'a&b' <-> 'c|d'") == [("a&b", "c|d")]  # operators inside a word


def test_phrase_pairs__an_address_word_s_alternatives_leave_the_phrase_s_pairs() -> None:
    """message_query.sql puts an address word and its addresses in parentheses, OR-ed: the
    phrase beside them is still required, nothing of the alternatives is."""
    expanded = "( 'pnm.com' | 'jdoe@pnm.com' | 'a' <-> 'b@pnm.com' ) & 'gas' <-> 'price'"
    assert phrase_pairs(expanded) == [("gas", "price")]
    assert phrase_pairs("'gas' <-> 'price' & !( 'pnm.com' | 'x(y' <-> 'z)@pnm.com' )") == [
        ("gas", "price")
    ]


def test_phrase_pairs__nothing_that_a_match_might_lack() -> None:
    assert phrase_pairs("'a' <2> 'b'") == []  # a word between: not adjacent
    assert phrase_pairs("'gas' & 'price'") == []
    assert phrase_pairs("!'a' <-> 'b' <-> 'c'") == [("b", "c")]  # "b c" not after "a"
    assert phrase_pairs("'gas' <-> 'price' | 'oil'") is None  # either side may match
    assert phrase_pairs("!( 'a' <-> 'b' ) & 'c'") == []  # a negated phrase holds no pair
    assert phrase_pairs("'a' <-> ( 'b' | 'c' )") == []  # nothing inside or across parentheses
    assert phrase_pairs("( 'a' <-> 'b' | 'c' ) <-> 'd'") == []
    assert phrase_pairs("'a' <-> ( 'b' | 'c'") is None  # unbalanced: not PostgreSQL's
    assert phrase_pairs("'a' <-> 'b' :* x") is None  # anything unexpected: no pre-filter
    assert phrase_pairs("") == []


def test_conjunction__only_words_joined_by_and_count() -> None:
    """How many words a search requires when it is only words joined by AND (message_search.py
    reads such a search from the GIN index when PostgreSQL puts its matches in few messages)."""
    assert conjunction("'gas' & 'price'") == 2
    assert conjunction("'gas' & 'price' & 'o''neil'") == 3
    assert conjunction("'a&b' & 'c'") == 2  # an operator inside a word
    assert conjunction("'gas'") == 1
    assert conjunction("") == 0
    for other in (
        "'gas' | 'price'",
        "'gas' & !'price'",
        "'gas' <-> 'price'",
        "( 'pnm.com' | 'jdoe@pnm.com' ) & 'gas'",
        "'gas' &",
        "'gas' 'price'",
        "'gas' & 'price' :* x",
    ):
        assert conjunction(other) == 0, other
