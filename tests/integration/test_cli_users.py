"""`--user EMAIL` naming no user: every command but an import fails with one line naming the
closest and the known users, and creates no one; an import creates the user and says so."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from fluffymail.cli import app
from tests.integration.mail.conftest import message, write_mbox

TYPO = "alcie@example.com"
IMAP = ["--host", "imap.example.com", "--username", "alice", "--password-stdin"]
COMMANDS = {
    "contacts top": ["contacts", "top", "--user", TYPO],
    "contacts top --json": ["contacts", "top", "--user", TYPO, "--json"],
    "contacts review-identity": ["contacts", "review-identity", "--user", TYPO],
    "connections list": ["connections", "list", "--user", TYPO],
    "connections sync": ["connections", "sync", "1", "--user", TYPO],
    "connections policy": ["connections", "policy", "1", "--user", TYPO, "--set", "none"],
    "connections people": ["connections", "people", "1", "--user", TYPO, "--add", "1"],
    "connections imap": ["connections", "imap", "--user", TYPO, *IMAP],
    "users tokens": ["users", "tokens", TYPO],
    "users token": ["users", "token", TYPO],
}


def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "FLUFFYMAIL_DATA_DIR": str(tmp_path / "data"),
        "FLUFFYMAIL_LOG_LEVEL": "ERROR",
    }


def add_users(db_url: str, *emails: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for email in emails:
            conn.execute("INSERT INTO crm.users (email) VALUES (%s)", (email,))


def users(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [row[0] for row in conn.execute("SELECT email FROM crm.users ORDER BY email")]


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_user_option__a_mistyped_user_is_one_error_line_naming_the_close_one(
    db_url: str, tmp_path: Path, args: list[str]
) -> None:
    add_users(db_url, "alice@example.com", "bob@partner.example")

    result = CliRunner().invoke(app, args, env=env(db_url, tmp_path), input="secret\n")

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (  # was "no user alcie@example.com" or "unknown user '…'" alone
        "error: unknown user 'alcie@example.com' (did you mean 'alice@example.com'?);"
        " known users: alice@example.com, bob@partner.example\n"
    )
    assert users(db_url) == ["alice@example.com", "bob@partner.example"]  # nobody created


def test_user_option__nothing_close_lists_the_known_users_and_how_a_new_one_starts(
    db_url: str, tmp_path: Path
) -> None:
    add_users(db_url, "alice@example.com")

    result = CliRunner().invoke(
        app, ["connections", "list", "--user", "Zed@Other.org"], env=env(db_url, tmp_path)
    )

    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown user 'zed@other.org'; known users: alice@example.com; if they are new,"
        " import their mail first (fluffymail import PATH --user zed@other.org)\n"
    )


def test_import__creates_a_mistyped_user_and_says_which_user_it_may_have_meant(
    db_url: str, tmp_path: Path
) -> None:
    add_users(db_url, "alice@example.com")
    mbox = write_mbox(tmp_path / "inbox.mbox", [message(1)])

    result = CliRunner().invoke(
        app, ["import", str(mbox), "--user", TYPO], env=env(db_url, tmp_path)
    )

    assert result.exit_code == 0, result.output
    assert "created user alcie@example.com (id " in result.stdout
    assert (
        "warning: alice@example.com is a user already; if you meant them, import again with"
        " --user alice@example.com"
    ) in result.stdout
    assert users(db_url) == ["alcie@example.com", "alice@example.com"]
