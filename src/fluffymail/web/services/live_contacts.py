"""The check every write about contacts makes first (a note, a tag, a list, a cadence): each is
the user's and live, locked until the write's transaction ends; a contact merged into another
is refused naming the one it joined."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fluffymail.crm.tags import repo as tags_repo
from fluffymail.errors import FluffyMailError
from fluffymail.web.services.contacts import ContactNotFound
from fluffymail.web.services.messages import Conn, fetch_all

MERGED_NAMED = 10  # merged contacts a refusal's message names (its details list them all)


class SubjectMerged(FluffyMailError):
    """The contact or company was merged into another; use that one."""

    def __init__(self, message: str, details: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.details = list(details)  # each merged contact and the one it joined (the API's)


async def require_live_contacts(conn: Conn, user_id: int, contact_ids: Sequence[int]) -> None:
    """Check the contacts a write is about (a note, a tag, a list, a cadence), all or none:
    each is the user's and live, and locked until the caller's transaction ends (a merge
    waits for the write, then carries it along). `ContactNotFound` names those that are not
    the user's; `SubjectMerged` those merged into another, each with the contact it joined
    (QA: an API client holding an old id, after an automatic merge, got "no contact N")."""
    wanted = sorted(set(contact_ids))
    owned = await tags_repo.owned_contacts(conn, user_id, wanted)  # locked FOR SHARE
    if len(owned) == len(wanted):
        return
    gone = sorted(set(wanted) - set(owned))
    params = {"user_id": user_id, "contact_ids": gone}
    merged = await fetch_all(conn, "contact_survivors", params)
    if missing := sorted(set(gone) - {row["id"] for row in merged}):
        raise ContactNotFound(f"no contact {', '.join(map(str, missing[:10]))}")
    raise SubjectMerged(
        _merged_away(merged, several=len(wanted) > 1),
        [{"contact_id": row["id"], "merged_into_id": row["into_id"]} for row in merged],
    )


def _merged_away(rows: Sequence[dict[str, Any]], *, several: bool) -> str:
    """What a refused write says about contacts merged away: each and the contact it joined."""
    if len(rows) == 1:
        (row,) = rows
        text = (
            f"contact {row['id']} was merged into {row['into_label']} (contact {row['into_id']});"
            " use that one"
        )
    else:
        named = "; ".join(
            f"contact {row['id']} into {row['into_label']} (contact {row['into_id']})"
            for row in rows[:MERGED_NAMED]
        )
        more = f"; and {len(rows) - MERGED_NAMED} more" if len(rows) > MERGED_NAMED else ""
        text = f"{len(rows)} of these contacts were merged into others, use those: {named}{more}"
    return f"{text} (nothing was changed)" if several else text
