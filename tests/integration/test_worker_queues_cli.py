"""`fluffymail worker --queues`: a queue name no job kind has, or a spec that does not parse,
is refused with one line saying what is wrong, rather than a worker that works nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from fluffymail.cli import app

REPO = Path(__file__).resolve().parents[2]


def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "FLUFFYMAIL_DATA_DIR": str(tmp_path / "data"),
        "FLUFFYMAIL_SHUTDOWN_GRACE": "1",
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
    }


def test_worker_drain__an_unknown_queue_is_an_error_naming_the_near_one(
    db_url: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["worker", "--drain", "--queues", "sync-email:2"], env=env(db_url, tmp_path)
    )

    assert result.exit_code == 1, result.output  # was 0: "queues empty", having worked nothing
    assert "unknown queue 'sync-email' in --queues (did you mean 'sync-emails'?)" in result.stderr
    assert "extract-contacts" in result.stderr  # the known queues


def test_worker__an_unknown_queue_stops_it_before_it_idles(db_url: str, tmp_path: Path) -> None:
    done = subprocess.run(  # it used to start, work nothing and run until stopped
        [sys.executable, "-m", "fluffymail", "worker", "--queues", "extract-contact:2"],
        env={**os.environ, **env(db_url, tmp_path)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1, done.stderr[-2000:]
    assert "unknown queue 'extract-contact'" in done.stderr
    assert "did you mean 'extract-contacts'?" in done.stderr


def test_worker__a_spec_that_does_not_parse_is_a_usage_error_not_a_traceback() -> None:
    result = CliRunner().invoke(app, ["worker", "--queues", "sync-emails"])

    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no ValueError traceback
    assert "--queues" in result.stderr and "bad queue spec 'sync-emails'" in result.stderr


def test_worker_drain__an_unknown_queue_in_FLUFFYMAIL_QUEUES_is_the_same_error(
    db_url: str, tmp_path: Path
) -> None:
    spec = {"FLUFFYMAIL_QUEUES": "sync-emails:2,extract-contact:8"}
    result = CliRunner().invoke(app, ["worker", "--drain"], env={**env(db_url, tmp_path), **spec})

    # was 0: the misspelt queue ran at its kind's own concurrency, the setting silently ignored
    assert result.exit_code == 1, result.output
    assert (
        "error: unknown queue 'extract-contact' in FLUFFYMAIL_QUEUES"
        " (did you mean 'extract-contacts'?); known: " in result.stderr
    )


def test_worker__an_unknown_queue_in_FLUFFYMAIL_QUEUES_stops_it_before_it_idles(
    db_url: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fluffymail", "worker"],
        env={**os.environ, **env(db_url, tmp_path), "FLUFFYMAIL_QUEUES": "sync-email:4"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1, done.stderr[-2000:]
    assert "unknown queue 'sync-email' in FLUFFYMAIL_QUEUES" in done.stderr
    assert "did you mean 'sync-emails'?" in done.stderr


def test_worker_drain__queues_given_win_over_FLUFFYMAIL_QUEUES_and_its_default_is_not_checked(
    db_url: str, tmp_path: Path
) -> None:
    bad_env = {**env(db_url, tmp_path), "FLUFFYMAIL_QUEUES": "sync-email:4"}
    given = CliRunner().invoke(app, ["worker", "--drain", "--queues", "sync-emails:1"], env=bad_env)
    # another registry: the default FLUFFYMAIL_QUEUES names queues it does not have
    other = CliRunner().invoke(
        app,
        ["worker", "--drain", "--jobs", "tests.acceptance.app:build_registry"],
        env={**env(db_url, tmp_path), "FLUFFYMAIL_QUEUES": None},
    )

    assert given.exit_code == 0, given.output
    assert other.exit_code == 0, other.output
