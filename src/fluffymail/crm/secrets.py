"""Credentials encrypted at rest: a Fernet box keyed from settings; plaintext is never logged.

FLUFFYMAIL_SECRET_KEY encrypts; it and FLUFFYMAIL_OLD_SECRET_KEYS decrypt, so a key is
rotated by moving it to the old keys, setting a new one and running `fluffymail secrets rotate`.
In production there is no fallback: without FLUFFYMAIL_SECRET_KEY, `MissingSecretKey`.
Imports only the leaves (config, errors) and `cryptography`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from fluffymail.config import Settings, split_keys
from fluffymail.errors import ConfigError, FluffyMailError

__all__ = [
    "MissingSecretKey",
    "SecretBox",
    "SecretError",
    "generate_key",
    "load_key",
    "load_keys",
    "open_box",
    "require_key",
]

KEY_FILE = "secret.key"
log = logging.getLogger(__name__)


class SecretError(FluffyMailError):
    """Stored credentials could not be decrypted (was FLUFFYMAIL_SECRET_KEY changed?)."""


class MissingSecretKey(ConfigError):
    """FLUFFYMAIL_ENVIRONMENT is production but FLUFFYMAIL_SECRET_KEY is not set. The key
    encrypts the stored mail credentials and the web app and every worker must share it, so a
    production process never makes one up. Make a key with `fluffymail secrets generate-key`,
    store it as a secret of your platform (for example `fly secrets set
    FLUFFYMAIL_SECRET_KEY=...`; never commit it), give the web app and the workers the same
    value, and start again."""

    def __init__(self) -> None:
        super().__init__(" ".join((self.__doc__ or "").split()))  # one paragraph, one line


class SecretBox:
    """Encrypts with the first key, decrypts with any; its repr never shows a key."""

    __slots__ = ("_current", "_fernet")

    def __init__(self, key: bytes, *old_keys: bytes) -> None:
        try:
            self._current = Fernet(key)
            self._fernet = MultiFernet([self._current, *(Fernet(old) for old in old_keys)])
        except ValueError as exc:
            raise ConfigError("the secret key is not a valid Fernet key") from exc

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise SecretError() from exc

    def encrypt_json(self, value: dict[str, Any]) -> bytes:
        return self.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def decrypt_json(self, token: bytes) -> dict[str, Any]:
        value = json.loads(self.decrypt(token))
        if not isinstance(value, dict):
            raise SecretError("stored credentials are not a JSON object")
        return value

    def is_current(self, token: bytes) -> bool:
        """True when the current key alone decrypts `token` (nothing to rotate)."""
        try:
            self._current.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """`token`'s plaintext encrypted with the current key; `SecretError` if no key reads it."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise SecretError() from exc


def generate_key() -> str:
    """A new random key, in the form FLUFFYMAIL_SECRET_KEY takes."""
    return Fernet.generate_key().decode("ascii")


def require_key(settings: Settings) -> None:
    """Refuse (`MissingSecretKey`) a production process without FLUFFYMAIL_SECRET_KEY."""
    if settings.is_production and settings.secret_key is None:
        raise MissingSecretKey()


def open_box(settings: Settings) -> SecretBox:
    """The box for the configured keys: the current one encrypts, old ones still decrypt."""
    return SecretBox(*load_keys(settings))


def load_keys(settings: Settings) -> list[bytes]:
    """The current key, then FLUFFYMAIL_OLD_SECRET_KEYS in the order given."""
    old = settings.old_secret_keys
    return [
        load_key(settings),
        *(key.encode("ascii") for key in split_keys(old.get_secret_value() if old else "")),
    ]


def load_key(settings: Settings) -> bytes:
    """The current key, or (development only) one kept in `data_dir/secret.key`, created once.

    The fallback logs a warning every time: a key stored next to the data it protects only
    guards against leaked database dumps, and separate machines would each make their own.
    In production it is refused (`MissingSecretKey`).
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode("ascii")
    require_key(settings)
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
    log.warning(
        "FLUFFYMAIL_SECRET_KEY is not set: using the development key file; set it in production",
        extra={"action": "secrets.dev_key", "path": str(path)},
    )
    return path.read_bytes().strip()
