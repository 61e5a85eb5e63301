"""What an IMAP server said, as quoted to the user: one printable line, at most 200 chars."""

from __future__ import annotations

from imapclient import exceptions as imap_errors

from fluffymail.integrations.mail.imap import SERVER_TEXT_CHARS, _login_failure, _server_text
from fluffymail.integrations.mail.source import AuthError


def test_a_refused_sign_in__the_servers_reason_quoted_on_one_short_printable_line() -> None:
    said = b"[AUTHENTICATIONFAILED] Use an app password\r\n\x1b[31mred\x00" + b"x" * 500
    failure = _login_failure(imap_errors.LoginError(said), "for ann at mail.example")
    assert isinstance(failure, AuthError)
    quoted = _server_text(imap_errors.LoginError(said))
    assert quoted.startswith("[AUTHENTICATIONFAILED] Use an app password")
    assert quoted.isprintable() and len(quoted) == SERVER_TEXT_CHARS and quoted.endswith("…")
    assert quoted in failure.reason


def test_nothing_said__the_error_kind() -> None:
    assert _server_text(imap_errors.LoginError("")) == "LoginError"
