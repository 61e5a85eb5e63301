"""`fluffymail import`: bad input fails clearly and writes nothing; good input is idempotent."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from fluffymail.cli import app
from tests.helpers import write_maildir
from tests.integration.mail.conftest import message, write_mbox


def counts(db_url: str) -> tuple[int, int, int]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM crm.users), (SELECT count(*) FROM crm.connections),"
            " (SELECT count(*) FROM crm.messages)"
        ).fetchone()
    assert row is not None
    return row


def invoke(db_url: str, tmp_path: Path, *args: str):
    env = {"DATABASE_URL": db_url, "FLUFFYMAIL_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(app, ["import", *args], env=env)


@pytest.mark.parametrize(
    ("make_path", "user", "error"),
    [
        (lambda tmp: tmp / "missing.mbox", "me@example.com", "does not exist"),
        (lambda tmp: _text_file(tmp), "me@example.com", "holds no mail"),
        (
            lambda tmp: write_mbox(tmp / "a.mbox", [message(1)]),
            "not-an-address",
            "not a valid email",
        ),
    ],
    ids=["missing-path", "not-a-mailbox", "invalid-user"],
)
def test_import__bad_input_fails_clearly_and_writes_nothing(
    db_url: str, tmp_path: Path, make_path, user: str, error: str
) -> None:
    result = invoke(db_url, tmp_path, str(make_path(tmp_path)), "--user", user)

    assert result.exit_code == 1
    assert error in result.stderr and result.stdout == ""
    assert counts(db_url) == (0, 0, 0)


def _text_file(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("just some notes\nnot mail at all\n")
    return path


def test_import__creates_the_user_then_a_second_run_adds_nothing(
    db_url: str, tmp_path: Path
) -> None:
    root = write_maildir(
        tmp_path / "mail", {"inbox": [message(1), message(2)], "sent": [message(2)]}
    )

    first = invoke(db_url, tmp_path, str(root), "--user", "Owner@Example.com", "--name", "Owner")
    second = invoke(db_url, tmp_path, str(root), "--user", "owner@example.com")
    full = invoke(db_url, tmp_path, str(root), "--user", "owner@example.com", "--full")

    assert first.exit_code == 0, first.output
    assert "created user owner@example.com" in first.output
    assert "3 messages read, 2 new, 1 duplicate," in first.output
    assert (
        second.exit_code == 0 and "0 new" in second.output and "created user" not in second.output
    )
    assert full.exit_code == 0 and "3 messages read, 0 new" in full.output
    assert counts(db_url) == (1, 1, 2)


def connections(db_url: str) -> list[tuple[int, str]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT id, source FROM crm.connections ORDER BY id").fetchall()


def test_import__the_same_mbox_file_elsewhere_goes_to_its_connection_and_says_which(
    db_url: str, tmp_path: Path
) -> None:
    # the file is known by the mail it starts with (its first KB): here the first message
    mail = [message(1, extra=f"X-Note: {'a' * 1200}\n"), *(message(n) for n in (2, 3, 4))]
    first = write_mbox(tmp_path / "downloads" / "inbox.mbox", mail[:3])
    moved = write_mbox(tmp_path / "mail" / "inbox.mbox", mail)  # moved, and grown since
    newer = tmp_path / "newer" / "inbox.mbox"  # a newer export: message 2 deleted since
    write_mbox(newer, [mail[0], mail[2], mail[3]])

    owner = ("--user", "owner@example.com", "--extract")  # each run ends (no worker here)
    created = invoke(db_url, tmp_path, str(first), *owner)
    ((connection_id, _),) = connections(db_url)
    again = invoke(db_url, tmp_path, str(moved), *owner)
    same_path = invoke(db_url, tmp_path, str(moved), *owner)
    full = invoke(db_url, tmp_path, str(newer), *owner, "--full")

    assert created.exit_code == 0, created.output
    assert f"importing into connection {connection_id} (inbox.mbox), new" in created.stdout
    assert again.exit_code == 0, again.output
    assert (
        f"importing into connection {connection_id} (inbox.mbox): the same file was imported"
        f" from {first}; only what is missing is stored" in " ".join(again.stdout.split())
    )
    assert "1 message read, 1 new, 0 duplicates" in again.stdout  # appended mail only
    assert (  # the same path: as before
        f"importing into connection {connection_id} (inbox.mbox), imported before"
        in same_path.stdout
    )
    assert full.exit_code == 0, full.output
    assert "3 messages read, 0 new" in full.stdout
    assert "1 message no longer in the files: deleted" in full.stdout  # a re-import's rule
    assert connections(db_url) == [(connection_id, str(newer))]  # was one connection per path
    assert counts(db_url) == (1, 1, 3)


def test_import__new_mail_while_the_last_import_waits_for_a_worker__says_so(
    db_url: str, tmp_path: Path
) -> None:
    """With no worker running, an import's run waits for one to find the people in its mail;
    importing new mail then cannot start another run of the mailbox. It said "still running"
    (nothing was); it says what waits and what to run. With --extract nothing waits."""
    box = tmp_path / "a.mbox"
    runs = []
    for first in (0, 3, 6):  # each time three more messages
        write_mbox(box, [message(n) for n in range(first, first + 3)])
        runs.append(invoke(db_url, tmp_path, str(box), "--user", "owner@example.com"))

    assert [r.exit_code for r in runs[:2]] == [0, 0], [r.output for r in runs]
    refused = " ".join(runs[2].output.split())
    assert runs[2].exit_code == 1 and "still running" not in refused, refused
    assert (
        "error: the last import of this mailbox waits for a worker to find the people in its"
        " mail, and no worker is running: run `fluffymail worker`" in refused
    )


def test_import__another_mailbox_of_the_same_file_name_gets_its_own_connection(
    db_url: str, tmp_path: Path
) -> None:
    mine = write_mbox(tmp_path / "a" / "inbox.mbox", [message(1), message(2)])
    theirs = write_mbox(tmp_path / "b" / "inbox.mbox", [message(7), message(8)])

    for path in (mine, theirs):
        result = invoke(db_url, tmp_path, str(path), "--user", "owner@example.com")
        assert result.exit_code == 0 and "new" in result.stdout, result.output

    assert [source for _, source in connections(db_url)] == [str(mine), str(theirs)]


def test_import__takeout_spam_and_trash_are_skipped_and_said_then_imported_on_request(
    db_url: str, tmp_path: Path
) -> None:
    labelled = [
        message(1, extra="X-Gmail-Labels: Inbox,Opened\n"),
        message(2, extra="X-Gmail-Labels: Spam,Unread\n"),
        message(3, extra="X-Gmail-Labels: Trash\n"),
        message(4, extra="X-Gmail-Labels: Sent\n"),
    ]
    mbox = write_mbox(tmp_path / "All mail Including Spam and Trash.mbox", labelled)

    first = invoke(db_url, tmp_path, str(mbox), "--user", "owner@example.com")
    everything = invoke(
        db_url, tmp_path, str(mbox), "--user", "owner@example.com", "--all-labels", "--full"
    )

    output = " ".join(first.output.split())
    assert first.exit_code == 0, first.output
    assert "2 messages read, 2 new" in output
    assert "skipped 2 messages by their Gmail labels (spam 1, trash 1)" in output
    assert "--all-labels --full" in output
    assert everything.exit_code == 0 and "4 messages read, 2 new" in everything.output
    assert counts(db_url) == (1, 1, 4)


def _sent(n: int, sender: str) -> bytes:
    return (
        f"From: {sender}\nTo: pat@partner.example\nSubject: note {n}\n"
        f"Date: Mon, 1 Jan 2001 11:{n % 60:02d}:00 +0000\nMessage-ID: <s{n}@example.com>\n\n"
        f"body {n}\n"
    ).encode()


def test_import__owner_address_outside_rfc5322_warns_and_summary_says_how_self_was_decided(
    db_url: str, tmp_path: Path
) -> None:
    owner = "Tom Hodge <t..hodge@enron.com>"
    sent = [_sent(n, owner) for n in range(6)] + [
        _sent(n, "Ina Aide <ina.aide@enron.com>") for n in range(6, 9)
    ]
    root = write_maildir(tmp_path / "mail", {"inbox": [message(1)], "sent": sent})

    result = invoke(db_url, tmp_path, str(root), "--user", "t..hodge@enron.com")

    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "warning: --user 't..hodge@enron.com' breaks RFC 5322" in text
    assert "self: t..hodge@enron.com (the --user address, named Tom Hodge); 9 sent-folder" in text
    assert "delegate: ina.aide@enron.com (a different person's name; 3 sent)" in text
    assert counts(db_url) == (1, 1, 10)


def test_import__without_a_sent_folder_self_is_the_user_address(
    db_url: str, tmp_path: Path
) -> None:
    root = write_maildir(tmp_path / "mail", {"inbox": [message(1)]})

    result = invoke(db_url, tmp_path, str(root), "--user", "bob@example.com")

    assert result.exit_code == 0, result.output
    assert "no sent folder was found" in " ".join(result.output.split())


def test_import_ics__stores_meetings_once_and_refuses_junk(db_url: str, tmp_path: Path) -> None:
    ics = tmp_path / "cal.ics"
    ics.write_bytes(
        b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:a@t\n"
        b"DTSTART:20261101T100000Z\nDTEND:20261101T110000Z\nSUMMARY:Intro\n"
        b"ORGANIZER:mailto:me@example.com\nATTENDEE;CN=Ann:mailto:ann@acme.example\n"
        b"END:VEVENT\nEND:VCALENDAR\n"
    )
    for _ in range(2):  # a second run updates the same meeting
        result = invoke(db_url, tmp_path, str(ics), "--user", "me@example.com")
        assert result.exit_code == 0, result.output
        assert "1 meeting stored" in result.output
    with psycopg.connect(db_url) as conn:
        found = conn.execute(
            "SELECT m.title, c.primary_address, c.created FROM crm.meetings m"
            " JOIN crm.meeting_attendees a ON a.meeting_id = m.id"
            " JOIN crm.contact_addresses ca ON ca.address = a.address"
            " JOIN crm.contacts c ON c.id = ca.contact_id"
        ).fetchall()
    assert found == [("Intro", "ann@acme.example", True)]  # organised by me: Ann is a contact
    junk = tmp_path / "junk.ics"
    junk.write_text("hello")
    refused = invoke(db_url, tmp_path, str(junk), "--user", "me@example.com")
    said = " ".join(refused.output.split())  # the console wraps long lines (the path's length)
    assert refused.exit_code == 1 and "not an iCalendar file" in said
