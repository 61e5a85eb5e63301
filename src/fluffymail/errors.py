"""The root of FluffyMail's exceptions; each class's docstring is its default message."""

from __future__ import annotations


class FluffyMailError(Exception):
    """FluffyMail failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or " ".join((self.__doc__ or "").split()))


class ConfigError(FluffyMailError):
    """FluffyMail is misconfigured."""


class DatabaseError(FluffyMailError):
    """The database could not be reached or prepared."""
