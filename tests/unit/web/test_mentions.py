"""The `@handles` a note mentions."""

from __future__ import annotations

from fluffymail.crm.notes.mentions import handles


def test_handles__names_not_addresses() -> None:
    body = "Ask @Maya and @maya.patel, cc @Grace. Mail ada@acme.test or @@x; (@Li-Wei's) @42"
    assert handles(body) == ["maya", "maya.patel", "grace", "li-wei's"]
    assert handles("no mentions, me@x.test") == []
