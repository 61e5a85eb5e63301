"""Key rotation against PostgreSQL: credentials written under key A still decrypt with [B, A];
`fluffymail secrets rotate` re-encrypts them in batches, after which B alone reads everything
and a second run changes nothing (security issue #15, finding 5)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from fluffymail.cli import app
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.mail import credentials
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.jobs import sync_emails

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def keyed(tmp_path: Path, key: str, old: str | None = None) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, secret_key=key, old_secret_keys=old)


async def store(pool: AsyncConnectionPool, box: secrets.SecretBox, names: list[str]) -> list[int]:
    """IMAP connections whose passwords are encrypted with `box`, plus one file connection."""
    ids = []
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, "owner@example.com")
        for name in names:
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=ConnectionKind.IMAP, source=f"{name}@imap.example.com",
                credentials=box.encrypt_json(imap_record(name)),
            )  # fmt: skip
            ids.append(connection.id)
        await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=ConnectionKind.MBOX, source="/mail/archive.mbox"
        )
    return ids


def imap_record(name: str) -> dict[str, object]:
    return {"host": "imap.example.com", "port": 993, "username": name, "password": f"pw-{name}"}


async def read_all(pool: AsyncConnectionPool, settings: Settings, ids: list[int]) -> list[str]:
    """Each connection's password, decrypted the way a sync job decrypts it."""
    box = secrets.open_box(settings)
    async with pool.connection() as conn:
        tokens = [await mail_repo.get_credentials(conn, id_) for id_ in ids]
    return [str(box.decrypt_json(token)["password"]) for token in tokens if token]


async def test_rotate__old_key_reads_until_rotated_then_the_new_key_alone_reads_all(
    pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    names = [f"user{n}" for n in range(5)]
    ids = await store(pool, secrets.open_box(keyed(tmp_path, KEY_A)), names)
    expected = [f"pw-{name}" for name in names]
    rotating, only_b = keyed(tmp_path, KEY_B, old=KEY_A), keyed(tmp_path, KEY_B)

    assert await read_all(pool, rotating, ids) == expected
    with pytest.raises(secrets.SecretError):
        await read_all(pool, only_b, ids)

    # A refreshed token written during the rotation window already uses the new key.
    async with pool.connection() as conn:
        refreshed = secrets.open_box(rotating).encrypt_json(imap_record(names[0]))
        await mail_repo.set_credentials(conn, ids[0], refreshed)
        done = await credentials.rotate(conn, secrets.open_box(rotating), batch_size=2)
    assert done == credentials.Rotation(rotated=4, current=1, changed=0, unreadable=())
    assert await read_all(pool, only_b, ids) == expected

    async with pool.connection() as conn:
        again = await credentials.rotate(conn, secrets.open_box(only_b), batch_size=2)
    assert again == credentials.Rotation(rotated=0, current=5, changed=0, unreadable=())


async def test_rotate__reports_what_no_key_reads_and_leaves_it(
    pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    [lost] = await store(pool, secrets.SecretBox(Fernet.generate_key()), ["lost"])
    [kept] = await store(pool, secrets.open_box(keyed(tmp_path, KEY_A)), ["kept"])
    async with pool.connection() as conn:
        before = await mail_repo.get_credentials(conn, lost)
        done = await credentials.rotate(conn, secrets.open_box(keyed(tmp_path, KEY_B, KEY_A)))
        assert await mail_repo.get_credentials(conn, lost) == before
    assert done == credentials.Rotation(rotated=1, current=0, changed=0, unreadable=(lost,))
    assert await read_all(pool, keyed(tmp_path, KEY_B), [kept]) == ["pw-kept"]


async def test_replace_credentials__never_overwrites_a_token_changed_meanwhile(
    pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    box = secrets.open_box(keyed(tmp_path, KEY_A))
    first, second = await store(pool, box, ["first", "second"])
    async with pool.connection() as conn:
        stale = await mail_repo.get_credentials(conn, first)
        current = await mail_repo.get_credentials(conn, second)
        assert stale is not None and current is not None
        await mail_repo.set_credentials(conn, first, box.encrypt_json(imap_record("refreshed")))
        written = await mail_repo.replace_credentials(
            conn, [(first, stale, b"rotated-1"), (second, current, b"rotated-2")]
        )
        assert written == {second}
        assert await mail_repo.get_credentials(conn, second) == b"rotated-2"
    assert await read_all(pool, keyed(tmp_path, KEY_A), [first]) == ["pw-refreshed"]


async def test_sync_job__decrypts_with_an_old_key(
    pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    [id_] = await store(pool, secrets.open_box(keyed(tmp_path, KEY_A)), ["synced"])
    async with pool.connection() as conn:
        connection = await mail_repo.get_connection(conn, id_)
        token = await mail_repo.get_credentials(conn, id_)
    assert connection is not None
    source = sync_emails.open_source(connection, keyed(tmp_path, KEY_B, old=KEY_A), token)
    assert type(source).__name__ == "ImapSource"
    with pytest.raises(secrets.SecretError):
        sync_emails.open_source(connection, keyed(tmp_path, KEY_B), token)


def test_secrets_rotate_command__counts_then_changes_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> list[int]:
        async with AsyncConnectionPool(db_url, kwargs={"autocommit": True}) as pool:
            return await store(pool, secrets.open_box(keyed(tmp_path, KEY_A)), ["a", "b", "c"])

    ids = asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FLUFFYMAIL_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("FLUFFYMAIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FLUFFYMAIL_ENVIRONMENT", "production")
    monkeypatch.setenv("FLUFFYMAIL_SECRET_KEY", KEY_B)
    monkeypatch.setenv("FLUFFYMAIL_OLD_SECRET_KEYS", KEY_A)
    cli = CliRunner()

    result = cli.invoke(app, ["secrets", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 3, already under the current key 0" in result.output

    monkeypatch.delenv("FLUFFYMAIL_OLD_SECRET_KEYS")
    result = cli.invoke(app, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 0, already under the current key 3" in result.output

    async def check() -> list[str]:
        async with AsyncConnectionPool(db_url, kwargs={"autocommit": True}) as pool:
            return await read_all(pool, keyed(tmp_path, KEY_B), ids)

    assert asyncio.run(check()) == ["pw-a", "pw-b", "pw-c"]

    monkeypatch.setenv("FLUFFYMAIL_SECRET_KEY", Fernet.generate_key().decode())
    result = cli.invoke(app, ["secrets", "rotate"])
    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "unreadable 3" in flat and f"connection(s) {', '.join(map(str, ids))}" in flat
