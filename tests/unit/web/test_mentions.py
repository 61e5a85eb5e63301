"""The `@mentions` a note holds: the names each could be, longest first, and their keys."""

from __future__ import annotations

from fluffymail.crm.notes.mentions import found, key, keys


def _phrases(body: str) -> list[tuple[str, ...]]:
    return [w.phrases for w in found(body)]


def test_found__names_not_addresses() -> None:
    body = "Ask @Maya, @maya.patel; cc @Grace. Mail ada@acme.test or @@x; (@Li-Wei's) @42"
    assert _phrases(body) == [
        ("Maya",),
        ("maya.patel",),
        ("Grace. Mail", "Grace"),
        ("Li-Wei's", "Li-Wei"),
    ]
    assert found("no mentions, me@x.test") == []


def test_found__a_full_name_longest_first() -> None:
    assert _phrases("Ping @Mike Purcell and @Amy Fitzpatrick") == [
        ("Mike Purcell and", "Mike Purcell", "Mike"),
        ("Amy Fitzpatrick", "Amy"),
    ]
    assert _phrases("@Mike Purcell said hi.") == [
        ("Mike Purcell said hi", "Mike Purcell said", "Mike Purcell", "Mike")
    ]


def test_found__long_accented_apostrophe_and_hyphen_names() -> None:
    assert _phrases("@Bill Williams III")[0][0] == "Bill Williams III"
    assert _phrases("cc @José Núñez-O'Brien.") == [("José Núñez-O'Brien", "José")]
    assert _phrases("@Émile d’Artagnan’s deal")[0] == (
        "Émile d’Artagnan’s deal",
        "Émile d’Artagnan’s",
        "Émile d’Artagnan",
        "Émile",
    )
    assert _phrases("@One Two Three Four Five Six")[0][0] == "One Two Three Four Five"


def test_found__a_name_stops_at_the_line_and_the_next_mention() -> None:
    assert _phrases("@Mike\nPurcell") == [("Mike",)]
    assert _phrases("@Mike @Purcell") == [("Mike",), ("Purcell",)]


def test_found__an_address() -> None:
    assert _phrases("ask @mark.fischer@enron.com. Or @Mark") == [
        ("mark.fischer@enron.com",),
        ("Mark",),
    ]


def test_found__each_mention_once() -> None:
    assert _phrases("@Grace and @grace and @GRACE") == [("Grace and", "Grace"), ("GRACE",)]


def test_keys__lower_cased_spaced_and_plain_apostrophes() -> None:
    assert key("Mike  Purcell") == "mike purcell"
    assert key("D’Artagnan") == "d'artagnan"
    assert key("Jose\u0301") == "josé"
    assert keys(found("@Amy Fitz and @amy")) == ["amy fitz and", "amy fitz", "amy"]
