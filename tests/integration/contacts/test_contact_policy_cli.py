"""Issue 12, section 5 from the command line: `fluffymail import` says who became a contact and
why the others did not; `fluffymail connections people|policy` list them, add them and change
the policy (a bad value fails with the choices and changes nothing)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from typer.testing import CliRunner

from fluffymail.cli import app
from tests.integration.web.policy_seed import inbox

ME = "me@example.com"


def invoke(db_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"DATABASE_URL": db_url, "FLUFFYMAIL_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, " ".join(result.output.split())


def connection_id(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT id FROM crm.connections").fetchone()
    assert row is not None
    return int(row[0])


def test_import_with_extract__says_who_wrote_and_how_to_see_them(
    db_url: str, tmp_path: Path
) -> None:
    code, out = invoke(
        db_url, tmp_path, "import", str(inbox(tmp_path, ME)), "--user", ME, "--extract"
    )

    assert code == 0, out
    cid = connection_id(db_url)
    assert (
        "people: 3 people wrote to you; they become contacts once you write to them or when you"
        " add them; 1 message was newsletters or automated mail." in out
    )
    assert f"see who wrote and add them: fluffymail connections people {cid} --user {ME}" in out

    code, out = invoke(db_url, tmp_path, "connections", "people", str(cid), "--user", ME)
    assert code == 0, out
    assert "3 people wrote to you" in out
    assert "ann@acme.example Ann Writer" in out
    with psycopg.connect(db_url) as conn:
        ann = conn.execute(
            "SELECT id FROM crm.contacts WHERE primary_address = 'ann@acme.example'"
        ).fetchone()[0]  # type: ignore[index]
    code, out = invoke(
        db_url, tmp_path, "connections", "people", str(cid), "--user", ME, "--add", str(ann)
    )
    assert code == 0 and f"added 1 as contacts: {ann}" in out
    assert "1 person became a contact; 2 others wrote to you" in out


def test_import_without_a_worker__says_the_people_are_found_later(
    db_url: str, tmp_path: Path
) -> None:
    code, out = invoke(db_url, tmp_path, "import", str(inbox(tmp_path, ME)), "--user", ME)

    assert code == 0, out
    assert "people: 7 messages wait for the worker to find the people in them" in out


def test_connections_policy__shows_changes_and_refuses_a_bad_value(
    db_url: str, tmp_path: Path
) -> None:
    code, out = invoke(
        db_url, tmp_path, "import", str(inbox(tmp_path, ME)), "--user", ME, "--extract"
    )
    assert code == 0, out
    cid = str(connection_id(db_url))

    code, out = invoke(db_url, tmp_path, "connections", "policy", cid, "--user", ME, "--set", "all")
    assert code == 1
    assert "unknown contact policy 'all'; use one of sent, sent_and_received, none" in out

    code, out = invoke(db_url, tmp_path, "connections", "policy", cid, "--user", ME)
    assert code == 0 and "policy: sent (people you write to become contacts" in out

    code, out = invoke(
        db_url, tmp_path, "connections", "policy", cid, "--user", ME, "--set", "sent_and_received"
    )
    assert code == 0, out
    assert f"connection {cid}: policy sent_and_received; job" in out
    assert "applies it to the mail already imported" in out
    code, out = invoke(db_url, tmp_path, "connections", "list", "--user", ME)
    assert "contacts from: sent_and_received" in out
