"""Which refused IMAP sign-ins set the stored credentials aside, and which are retried."""

from __future__ import annotations

import pytest
from imapclient import exceptions as imap_errors

from fluffymail.integrations.mail import imap
from fluffymail.integrations.mail.source import AuthError, TransientSourceError


@pytest.mark.parametrize(
    "answer",
    [
        b"[UNAVAILABLE] Temporary authentication failure. [vm:2026-12-06 03:48:11]",
        b"[INUSE] Mailbox in use by another session",
        b"[SERVERBUG] Internal error",
        b"[LIMIT] Too many connections",
    ],
)
def test_a_busy_server__is_retried_not_needs_reauth(answer: bytes) -> None:
    failure = imap._login_failure(imap_errors.LoginError(str(answer)), "for ann at mail.test")
    assert isinstance(failure, TransientSourceError) and not isinstance(failure, AuthError)


@pytest.mark.parametrize(
    "answer",
    [b"[AUTHENTICATIONFAILED] Authentication failed.", b"[EXPIRED] Password expired", b"NO"],
)
def test_refused_credentials__need_the_user(answer: bytes) -> None:
    failure = imap._login_failure(imap_errors.LoginError(str(answer)), "for ann at mail.test")
    assert isinstance(failure, AuthError)
    assert failure.reason.startswith("IMAP login refused for ann at mail.test: ")
