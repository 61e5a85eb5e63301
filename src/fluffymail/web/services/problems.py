"""A service's refusal that names its own HTTP status and code (connections, imports)."""

from __future__ import annotations

from fluffymail.errors import FluffyMailError

__all__ = ["ServiceProblem"]


class ServiceProblem(FluffyMailError):
    """The request cannot be done as asked; `reason` says why in the user's terms, `status`
    and `code` how the API answers it (web/errors.py)."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason
