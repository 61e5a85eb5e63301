"""What a failed sync tells the connection's owner: a sentence, not a traceback, and when the
next try comes (from the job's retry state)."""

from __future__ import annotations

import imaplib
import socket
from datetime import UTC, datetime, timedelta

import pytest

from fluffymail.integrations.mail.source import TransientSourceError
from fluffymail.jobs.sync_emails import plain_attempt, plain_error
from fluffymail.queue import Job, JobState
from fluffymail.web.services.connections import retry_note

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (
            caused(
                TransientSourceError("IMAP connection failed: [Errno 111] Connection refused"),
                ConnectionRefusedError(111, "Connection refused"),
            ),
            "the mail server refused the connection",
        ),
        (
            caused(
                TransientSourceError("IMAP connection failed: socket error: EOF"),
                imaplib.IMAP4.abort("socket error: EOF"),
            ),
            "the mail server closed the connection in the middle of a reply",
        ),
        (
            caused(TransientSourceError("IMAP connection failed: timed out"), TimeoutError()),
            "the mail server did not answer in time",
        ),
        (
            caused(TransientSourceError("no such host"), socket.gaierror(-2, "Name unknown")),
            "the mail server's name could not be found",
        ),
        (TransientSourceError("Gmail answered 429"), "the mail provider asked us to slow down"),
        (
            TransientSourceError("IMAP command failed: NO [SERVERBUG] oops"),
            "the mail server could not be reached or answered with an error",
        ),
    ],
)
def test_plain_error__says_what_went_wrong_in_words(error: BaseException, sentence: str) -> None:
    assert plain_error(error) == sentence


def test_plain_error__leaves_other_failures_to_the_caller() -> None:
    assert plain_error(RuntimeError("extract-contacts queue missing")) is None


def job(state: JobState, *, retry_count: int, wait: float | None = 40) -> Job:
    start = None if wait is None else NOW + timedelta(seconds=wait)
    return Job(id=1, name="sync-emails", data={}, state=state, retry_count=retry_count,
               retry_limit=5, start_after=start)  # fmt: skip


def test_retry_note__counts_the_next_try_and_the_tries_left() -> None:
    assert retry_note(job(JobState.RETRY, retry_count=4), NOW) == "next try in 40 s, 2 tries left"
    assert retry_note(job(JobState.RETRY, retry_count=5, wait=300), NOW) == (
        "next try in 5 min, 1 try left"
    )
    assert retry_note(job(JobState.RETRY, retry_count=1, wait=-3), NOW) == (
        "next try any moment now, 5 tries left"
    )
    assert retry_note(job(JobState.ACTIVE, retry_count=2), NOW) == "trying again now"


def test_retry_note__no_tries_left_points_to_the_schedule() -> None:
    for done in (job(JobState.FAILED, retry_count=5), None):
        assert retry_note(done, NOW).startswith("no tries left; it syncs again")


def test_plain_error__an_internal_error_raised_while_handling_a_network_one_stays_raw() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError:
            raise RuntimeError("bug in the handler") from None
    except RuntimeError as exc:
        assert plain_error(exc) is None


@pytest.mark.parametrize(
    ("message", "sentence"),
    [
        ("step 'sync' failed: TransientSourceError: could not reach imap.example.com on port"
         " 993 (no such host)", "the mail server's name could not be found"),
        ("IMAP connection failed: [Errno 110] Connection timed out",
         "the mail server did not answer in time"),
        ("step 'sync' failed: PermissionError: [Errno 13] Permission denied:"
         " '/srv/fluffymail/uploads/1/a.mbox'", "the sync failed; the connection's last error says why"),
    ],
)  # fmt: skip
def test_plain_attempt__a_failed_jobs_message_in_words_never_echoed(
    message: str, sentence: str
) -> None:
    assert plain_attempt(message) == sentence
