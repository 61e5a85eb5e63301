"""The secret key: refused when missing in production (web app, worker, CLI), generated with a
warning in development, and rotated with old keys still decrypting (security issue #15, 5)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from typer.testing import CliRunner

from fluffymail.cli import app
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.web.app import create_app

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def make_settings(tmp_path: Path, **options: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **options)


# ---- production needs the key --------------------------------------------------------------------


def test_production__without_a_key_nothing_is_generated(tmp_path: Path) -> None:
    config = make_settings(tmp_path, environment="production")
    assert config.is_production
    with pytest.raises(secrets.MissingSecretKey) as refused:
        secrets.load_key(config)
    message = str(refused.value)
    assert "FLUFFYMAIL_SECRET_KEY" in message and "fluffymail secrets generate-key" in message
    assert "\n" not in message  # one paragraph
    assert not (tmp_path / secrets.KEY_FILE).exists()
    with pytest.raises(secrets.MissingSecretKey):
        secrets.open_box(config)


def test_production__the_web_app_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(secrets.MissingSecretKey):
        create_app(make_settings(tmp_path, environment="production"))
    create_app(
        make_settings(
            tmp_path, environment="Production", secret_key=KEY_A, allowed_hosts="crm.example.com"
        )
    )


@pytest.mark.parametrize("command", [["web"], ["worker"], ["secrets", "rotate"]])
def test_production__the_processes_refuse_with_how_to_fix_it(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(args))
    monkeypatch.setenv("FLUFFYMAIL_ENVIRONMENT", "production")
    monkeypatch.setenv("FLUFFYMAIL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FLUFFYMAIL_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")  # never reached
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "FLUFFYMAIL_SECRET_KEY is not set" in flat
    assert "fluffymail secrets generate-key" in flat
    assert not started and not (tmp_path / secrets.KEY_FILE).exists()


def test_web_command__passes_the_trusted_proxies_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("FLUFFYMAIL_ENVIRONMENT", "production")
    monkeypatch.setenv("FLUFFYMAIL_SECRET_KEY", KEY_A)
    monkeypatch.setenv("FLUFFYMAIL_FORWARDED_ALLOW_IPS", "*")
    monkeypatch.setenv("FLUFFYMAIL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FLUFFYMAIL_ALLOWED_HOSTS", raising=False)
    refused = CliRunner().invoke(app, ["web", "--port", "8123"])
    assert refused.exit_code == 1 and not calls  # a clear error, not a traceback
    assert "FLUFFYMAIL_ALLOWED_HOSTS" in refused.output and "Traceback" not in refused.output
    monkeypatch.setenv("FLUFFYMAIL_ALLOWED_HOSTS", "crm.example.com")
    result = CliRunner().invoke(app, ["web", "--port", "8123"])
    assert result.exit_code == 0, result.output
    [options] = calls
    assert options["proxy_headers"] is True and options["forwarded_allow_ips"] == "*"


# ---- development keeps a generated key -----------------------------------------------------------


def test_development__a_key_file_is_made_once_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_settings(tmp_path)
    assert not config.is_production
    with caplog.at_level(logging.WARNING, logger="fluffymail.crm.secrets"):
        first = secrets.load_key(config)
        assert secrets.load_key(config) == first
    assert (tmp_path / secrets.KEY_FILE).read_bytes().strip() == first
    assert "FLUFFYMAIL_SECRET_KEY is not set" in caplog.text
    secrets.require_key(config)  # no error outside production


def test_generate_key__prints_a_usable_key() -> None:
    result = CliRunner().invoke(app, ["secrets", "generate-key"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert Settings(_env_file=None, secret_key=key).secret_key is not None
    assert key != CliRunner().invoke(app, ["secrets", "generate-key"]).output.strip()


# ---- rotation --------------------------------------------------------------------------------------


def test_rotation__old_keys_decrypt_and_new_writes_use_the_new_key(tmp_path: Path) -> None:
    under_a = secrets.open_box(make_settings(tmp_path, secret_key=KEY_A)).encrypt(b"hunter2")
    rotating = secrets.open_box(make_settings(tmp_path, secret_key=KEY_B, old_secret_keys=KEY_A))
    assert rotating.decrypt(under_a) == b"hunter2"
    assert not rotating.is_current(under_a)

    fresh = rotating.encrypt(b"new")
    assert rotating.is_current(fresh)
    only_b = secrets.open_box(make_settings(tmp_path, secret_key=KEY_B))
    assert only_b.decrypt(fresh) == b"new"

    rotated = rotating.rotate(under_a)
    assert only_b.decrypt(rotated) == b"hunter2"
    with pytest.raises(secrets.SecretError):
        only_b.decrypt(under_a)
    with pytest.raises(secrets.SecretError):
        only_b.rotate(under_a)
    assert "KEY" not in repr(rotating) and KEY_A not in repr(rotating)


def test_rotation__several_old_keys_in_order_and_each_checked(tmp_path: Path) -> None:
    key_c = Fernet.generate_key().decode()
    config = make_settings(tmp_path, secret_key=KEY_B, old_secret_keys=f" {KEY_A}, {key_c} ,")
    assert secrets.load_keys(config) == [k.encode() for k in (KEY_B, KEY_A, key_c)]
    under_c = Fernet(key_c.encode()).encrypt(b"x")
    assert secrets.open_box(config).decrypt(under_c) == b"x"
    with pytest.raises(ValidationError, match="FLUFFYMAIL_OLD_SECRET_KEYS"):
        make_settings(tmp_path, secret_key=KEY_B, old_secret_keys=f"{KEY_A},not-a-key")
