"""`--user EMAIL`: the user it names, or one error naming the closest and the known users."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from rich.markup import escape

from fluffymail.crm.mail import repo as mail_repo
from fluffymail.errors import FluffyMailError

if TYPE_CHECKING:
    from rich.console import Console

    from fluffymail.crm.mail.models import User
    from fluffymail.crm.mail.repo import Conn

SHOWN = 10  # known addresses an error lists; the rest are counted
SCANNED = 10_000  # addresses the closest one is looked for among
CLOSE = 0.6  # difflib ratio, of the local part and of the domain each, to suggest an address


class UnknownUserError(FluffyMailError):
    """No such user."""


def import_first(email: str) -> str:
    """How a user starts: the import of their mail (`fluffymail import` creates them)."""
    return f"import their mail first (fluffymail import PATH --user {email})"


async def require_user(conn: Conn, email: str, *, start: str | None = None) -> User:
    """The user whose address is `email` (any case); else UnknownUserError naming the
    closest known address and the known ones. Never creates a user: a mistyped address must
    not become a new, empty user that answers with nothing.

    Args:
        start: how a new user is made, said when no known address is close (default: import
            their mail).
    """
    found = await mail_repo.get_user(conn, email.strip().lower())
    if found is None:
        raise await unknown(conn, email, start=start)
    return found


async def unknown(conn: Conn, email: str, *, start: str | None = None) -> UnknownUserError:
    """The error for `email`, which names no user (see `require_user`)."""
    wanted = email.strip().lower()
    known = await mail_repo.user_emails(conn, SCANNED)
    return UnknownUserError(unknown_user(wanted, known, start or import_first(wanted)))


async def closest_user(conn: Conn, email: str) -> str | None:
    """The known address closest to `email` (another one), if any is close."""
    wanted = email.strip().lower()
    return closest(wanted, [e for e in await mail_repo.user_emails(conn, SCANNED) if e != wanted])


def unknown_user(email: str, known: list[str], start: str) -> str:
    """The error line: `unknown user 'alcie@x.com' (did you mean 'alice@x.com'?); known
    users: ...`, or how to start when nothing is close."""
    if not known:
        return f"unknown user {email!r}: {start}"
    near = closest(email, known)
    listed = ", ".join(known[:SHOWN])
    more = f" and {len(known) - SHOWN:,}{'+' if len(known) >= SCANNED else ''} more"
    listed += more if len(known) > SHOWN else ""
    if near is not None:
        return f"unknown user {email!r} (did you mean {near!r}?); known users: {listed}"
    return f"unknown user {email!r}; known users: {listed}; if they are new, {start}"


def closest(email: str, known: list[str]) -> str | None:
    """The address of `known` most like `email` when both its local part and its domain are
    alike (a shared domain alone makes every colleague look close)."""
    local, _, domain = email.rpartition("@")

    def likeness(other: str) -> float:
        other_local, _, other_domain = other.rpartition("@")
        return min(_ratio(local, other_local), _ratio(domain, other_domain))

    best = max(known, key=likeness, default=None)
    return best if best is not None and likeness(best) >= CLOSE else None


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def say_created(console: Console, user: User, near: str | None) -> None:
    """Say that an import made a new user, and which existing one it may have meant (`near`,
    from `closest_user`): only imports create users, and a typo there makes one."""
    console.print(f"created user {user.email} (id {user.id})", markup=False, highlight=False)
    if near is not None:
        console.print(
            f"[yellow]warning:[/yellow] {escape(near)} is a user already; if you meant them,"
            f" import again with --user {escape(near)}",
            soft_wrap=True,
            highlight=False,
        )
