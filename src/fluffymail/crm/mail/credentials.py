"""Key rotation for connections' stored credentials: each re-encrypted under the current key.

Works in batches of one read and one compare-and-set write, so no transaction stays open and
a token a sync refreshed meanwhile is never overwritten. Idempotent: credentials already under
the current key are counted, not rewritten, so running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from fluffymail.crm import secrets
from fluffymail.crm.mail import repo as mail_repo


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """What one pass over the stored credentials did."""

    rotated: int
    """Re-encrypted with the current key."""
    current: int
    """Already under the current key: left as they were."""
    changed: int
    """Rewritten (a refreshed token) or deleted while this ran: run again to be sure."""
    unreadable: tuple[int, ...]
    """Connection ids whose credentials no configured key decrypts (left as they were)."""


async def rotate(
    conn: mail_repo.Conn, box: secrets.SecretBox, *, batch_size: int = 500
) -> Rotation:
    """Re-encrypt every connection's credentials that the current key does not already hold."""
    rotated = current = changed = 0
    unreadable: list[int] = []
    after = 0
    while batch := await mail_repo.credentials_batch(conn, after=after, limit=batch_size):
        after = batch[-1][0]
        replacements = []
        for connection_id, token in batch:
            if box.is_current(token):
                current += 1
                continue
            try:
                replacements.append((connection_id, token, box.rotate(token)))
            except secrets.SecretError:
                unreadable.append(connection_id)
        if replacements:
            written = await mail_repo.replace_credentials(conn, replacements)
            rotated += len(written)
            changed += len(replacements) - len(written)
    return Rotation(rotated=rotated, current=current, changed=changed, unreadable=tuple(unreadable))
