"""The words of a mail search that are part of an address, and the pattern that finds them in an
address between part boundaries (message_query.sql ORs the user's matching addresses in)."""

from __future__ import annotations

import re

from fluffymail.web.services.address_words import (
    AddressWord,
    Joined,
    address_pattern,
    address_words,
    joined,
)
from fluffymail.web.services.message_search import RARE_USES, rare_addresses


def _fragments(q: str) -> list[str]:
    return [w.fragment for w in address_words(q)]


def test_address_words__domains_local_parts_and_addresses() -> None:
    assert _fragments("pnm.com") == ["pnm.com"]
    assert _fragments("budget -@pnm.com jdoe@ or jeff.dasovich") == [
        "@pnm.com", "jdoe@", "jeff.dasovich",
    ]  # fmt: skip
    assert _fragments("<Jeff.Dasovich@Enron.com>, .gov bob_smith") == [
        "jeff.dasovich@enron.com", ".gov", "bob_smith",
    ]  # fmt: skip
    assert _fragments("write to pnm.com.") == ["pnm.com"]  # the sentence's full stop
    assert [(w.word, w.negated) for w in address_words("-(pnm.com)")] == [("(pnm.com)", True)]


def test_address_words__not_plain_words_phrases_or_punctuation() -> None:
    assert _fragments("budget meeting or memo -tariff") == []
    assert _fragments('"jeff.dasovich wrote" memo') == []  # a phrase is searched as typed
    assert _fragments('"unclosed pnm.com') == []
    assert _fragments("@ . .. @@ e-mail") == []
    assert _fragments("pnm.com PNM.com") == ["pnm.com"]  # once


def test_address_pattern__whole_parts_of_an_address() -> None:
    def finds(fragment: str, address: str) -> bool:
        return re.search(address_pattern(fragment), address) is not None

    assert finds("pnm.com", "jdoe@pnm.com") and finds("pnm.com", "bob@mail.pnm.com")
    assert not finds("pnm.com", "ann@xpnm.com")
    assert finds("jeff.dasovich", "jeff.dasovich@enron.com")
    assert finds("dasovich", "jeff.dasovich@enron.com")
    assert not finds("jeff.das", "jeff.dasovich@enron.com")
    assert finds("@pnm.com", "jdoe@pnm.com") and not finds("@pnm.com", "bob@mail.pnm.com")
    assert finds("jdoe@", "jdoe@pnm.com") and not finds("jdoe@", "x.jdoe2@pnm.com")
    assert finds(".gov", "ann@epa.gov") and not finds(".gov", "ann@gov.uk.example")
    assert finds("a+b", "a+b@x.com") and not finds("a+b", "aab@x.com")  # escaped


def test_joined__address_words_alone_with_and_or_with_or() -> None:
    assert joined("pnm.com") is Joined.ALONE
    assert joined("pnm.com or jeff.dasovich jdoe@") is Joined.ALONE
    assert joined("pnm.com budget") is Joined.AND
    assert joined('"gas price" -@pnm.com') is Joined.AND
    assert joined("-pnm.com") is Joined.AND  # nothing it finds is in every match
    assert joined("pnm.com or budget") is Joined.OTHER
    assert joined("budget") is Joined.AND  # no address word: not asked


def test_rare_addresses__only_when_every_match_holds_rare_addresses() -> None:
    pnm, jeff, out = (
        AddressWord(word=w, fragment=w, pattern="", negated=n)
        for w, n in (("pnm.com", False), ("jeff.dasovich", False), ("enron.com", True))
    )
    assert rare_addresses(Joined.ALONE, [pnm], [400])
    assert rare_addresses(Joined.ALONE, [pnm, jeff], [400, RARE_USES - 400])
    assert not rare_addresses(Joined.ALONE, [pnm, jeff], [400, RARE_USES])  # either may match
    assert not rare_addresses(Joined.ALONE, [pnm], [None])  # no address found
    assert rare_addresses(Joined.AND, [pnm, jeff], [RARE_USES * 5, 25])  # both must match
    assert not rare_addresses(Joined.AND, [out], [25])  # left out: says nothing of a match
    assert not rare_addresses(Joined.OTHER, [pnm], [25])
