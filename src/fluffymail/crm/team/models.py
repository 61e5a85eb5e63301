"""Typed rows of a workspace's team: members, invites, and an invite as its link shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Role = Literal["owner", "member"]
ROLES: tuple[Role, ...] = ("owner", "member")


@dataclass(frozen=True, slots=True, kw_only=True)
class Workspace:
    id: int
    name: str
    role: Role  # the caller's

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Workspace:
        return cls(id=row["id"], name=row["name"], role=row["role"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    user_id: int
    email: str
    name: str
    role: Role
    joined_on: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Member:
        return cls(
            user_id=row["user_id"],
            email=row["email"],
            name=row["name"],
            role=row["role"],
            joined_on=row["joined_on"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Invite:
    id: int
    workspace_id: int
    role: Role
    note: str
    created_on: datetime
    expires_on: datetime
    used_on: datetime | None
    created_by_email: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Invite:
        return cls(
            id=row["id"],
            workspace_id=row["workspace_id"],
            role=row["role"],
            note=row["note"],
            created_on=row["created_on"],
            expires_on=row["expires_on"],
            used_on=row["used_on"],
            created_by_email=row["created_by_email"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedInvite:
    """An invite found by its link's token: what the invite page shows before joining."""

    invite: Invite
    workspace_name: str
    created_by_name: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LinkedInvite:
        return cls(
            invite=Invite.from_row(row),
            workspace_name=row["workspace_name"],
            created_by_name=row["created_by_name"] or row["created_by_email"] or "",
        )
