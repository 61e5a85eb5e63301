"""Tests for fluffymail.crm.contacts.automated."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32

import pytest

from fluffymail.crm.contacts import automated
from fluffymail.crm.contacts.automated import AutomatedReason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"List-Id": "<fork.xent.com>"}, AutomatedReason.LIST_ID),
        ({"List-Unsubscribe": "<mailto:u@x.com>"}, AutomatedReason.LIST_UNSUBSCRIBE),
        ({"Precedence": "bulk"}, AutomatedReason.PRECEDENCE),
        ({"precedence": "JUNK"}, AutomatedReason.PRECEDENCE),
        ({"Auto-Submitted": "auto-replied"}, AutomatedReason.AUTO_SUBMITTED),
        ({"Return-Path": "<>"}, AutomatedReason.NULL_RETURN_PATH),
        (
            {"Content-Type": 'multipart/report; report-type=delivery-status; boundary="b"'},
            AutomatedReason.DELIVERY_REPORT,
        ),
    ],
)
def test_is_automated__header_signals(headers: dict[str, str], reason: AutomatedReason) -> None:
    assert automated.is_automated(headers, "person@example.com", 1) == reason


def test_is_automated__person_to_person_is_none() -> None:
    headers = {"Auto-Submitted": "no", "Precedence": "", "List-Id": None, "Return-Path": "<a@b.c>"}
    assert automated.is_automated(headers, "jane.tholt@enron.com", 3) is None


def test_is_automated__role_sender_calendar_and_crowd() -> None:
    assert automated.is_automated({}, "no-reply@github.com", 1) == AutomatedReason.ROLE_SENDER
    invite = automated.is_automated({}, "a@b.com", 1, is_calendar_invite=True)
    assert invite == AutomatedReason.CALENDAR_INVITE
    assert automated.is_automated({}, "a@b.com", 21) == AutomatedReason.TOO_MANY_RECIPIENTS
    assert automated.is_automated({}, "a@b.com", 20) is None
    assert automated.is_automated({}, "a@b.com", 10_000) == AutomatedReason.TOO_MANY_RECIPIENTS


def test_is_automated__empty_inputs() -> None:
    assert automated.is_automated({}, None, 0) is None
    assert automated.is_automated({}, "", 0) is None


@pytest.mark.parametrize(
    "email",
    [
        "noreply@x.com",
        "no-reply@x.com",
        "no_reply2@x.com",
        "DoNotReply@x.com",
        "MAILER-DAEMON@x.com",
        "postmaster@x.com",
        "notifications@github.com",
        "info@x.com",
        "support@x.com",
        "newsletter@x.com",
        "bounce@x.com",
        "bounces+123@x.com",
        "unsubscribe-i@networkpromotion.com",
        "enron.announcements@enron.com",
        "enron_update@concureworkplace.com",
        "acme-newsletter@x.com",
        "no.address@enron.com",
    ],
)
def test_is_role_address__roles(email: str) -> None:
    assert automated.is_role_address(email)


@pytest.mark.parametrize(
    "email",
    [
        "phillip.allen@enron.com",
        "infante@x.com",
        "bert@x.com",
        "",
        "not-an-address",
        "k..allen@enron.com",
        "mark.news@x.com",
    ],
)
def test_is_role_address__people_and_junk(email: str) -> None:
    assert not automated.is_role_address(email)


def _headers(path) -> dict[str, str]:
    raw = path.read_bytes()
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1]
    message = BytesHeaderParser(policy=compat32).parsebytes(raw.split(b"\n\n", 1)[0])
    return {k: str(v) for k, v in message.items()}


def test_is_automated__spamassassin_list_mail(corpus) -> None:
    """Every easy_ham message carrying List-Id is recognised as list mail."""
    files = sorted((corpus / "spamassassin" / "easy_ham").iterdir())[:300]
    listed = [h for h in map(_headers, files) if "List-Id" in h]
    assert listed
    assert all(automated.is_automated(h, None, 1) is not None for h in listed)
