"""Credentials encrypted at rest: a Fernet box keyed from settings; plaintext is never logged.

Imports only the leaves (config, errors) and `cryptography`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from fluffymail.config import Settings
from fluffymail.errors import ConfigError, FluffyMailError

__all__ = ["SecretBox", "SecretError", "load_key"]

KEY_FILE = "secret.key"
log = logging.getLogger(__name__)


class SecretError(FluffyMailError):
    """Stored credentials could not be decrypted (was FLUFFYMAIL_SECRET_KEY changed?)."""


class SecretBox:
    """Encrypts and decrypts credentials; its repr never shows the key."""

    __slots__ = ("_fernet",)

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise ConfigError("the secret key is not a valid Fernet key") from exc

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

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


def load_key(settings: Settings) -> bytes:
    """The configured key, or (development) one kept in `data_dir/secret.key`, created once.

    The fallback logs a warning every time: a key stored next to the data it protects only
    guards against leaked database dumps, so production must set FLUFFYMAIL_SECRET_KEY.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode("ascii")
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
