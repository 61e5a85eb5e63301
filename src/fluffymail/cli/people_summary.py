"""The import summary's "who became a contact, and why not" lines (issue 12: tell the user why)."""

from __future__ import annotations

from typing import Any

from fluffymail.crm.contacts import policy


async def lines(conn: Any, user_id: int, connection_id: int, email: str) -> list[str]:
    """What the import made of the people in its mail, with the commands to see and change it."""
    explained = await policy.explain(conn, user_id, connection_id)
    if explained is None:
        return []
    counts = explained.counts
    see = f"fluffymail connections people {connection_id} --user {email}"
    if counts.pending:
        return [
            f"people: {counts.pending:,} messages wait for the worker to find the people in them"
            f" (`fluffymail worker`, or import with --extract); then `{see}` says who became a"
            " contact and who wrote to you"
        ]
    found = [f"people: {explained.sentence}"]
    found.append(f"  policy: {counts.policy} ({policy.DESCRIPTIONS[counts.policy]})")
    if counts.waiting:
        found.append(f"  see who wrote and add them: {see}")
    found.append(
        f"  change it: fluffymail connections policy {connection_id} --user {email}"
        " --set sent|sent_and_received|none"
    )
    return found
