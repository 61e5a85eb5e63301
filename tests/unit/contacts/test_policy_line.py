"""The "why no contacts" sentence (issue 12, section 5) for each shape of a connection's mail."""

from __future__ import annotations

import pytest

from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.contacts.policy import people_line
from fluffymail.crm.contacts.policy_repo import Counts


def counts(policy: Policy = Policy.SENT, **values: int) -> Counts:
    zero = dict.fromkeys(
        ("messages", "pending", "automated", "wrote", "waiting", "written_to", "contacts"), 0
    )
    return Counts(policy=policy, **{**zero, **values})


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (counts(messages=67, pending=67), "Finding the people in this mail…"),
        (
            counts(messages=67, wrote=74, waiting=74),
            "74 people wrote to you; they become contacts once you write to them or when you"
            " add them.",
        ),
        (
            counts(messages=3, wrote=1, waiting=1),
            "1 person wrote to you; they become a contact once you write to them or when you add"
            " them.",
        ),
        (
            counts(messages=90, wrote=10, waiting=4, contacts=7, automated=1, pending=5),
            "7 people became contacts; 4 others wrote to you; they become contacts once you write"
            " to them or when you add them; 1 message was newsletters or automated mail;"
            " 5 still being read.",
        ),
        (
            counts(Policy.NONE, messages=9, wrote=2, waiting=2),
            "2 people wrote to you; this mailbox creates no contacts (change that below, or add"
            " them yourself).",
        ),
        (
            counts(Policy.SENT_AND_RECEIVED, messages=9, wrote=2, waiting=2),
            "2 people who wrote to you are being added as contacts.",
        ),
        (counts(messages=9, contacts=1), "1 person in this mail is a contact."),
        (
            counts(messages=4, automated=4),
            "No people found in this mail yet; 4 messages were newsletters or automated mail.",
        ),
    ],
)
def test_people_line(given: Counts, said: str) -> None:
    assert people_line(given) == said
