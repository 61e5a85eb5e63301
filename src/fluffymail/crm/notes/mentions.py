"""The `@handles` a note mentions: `@Maya`, `@maya.patel`; not the `@` inside an address."""

from __future__ import annotations

import re

MENTION = re.compile(r"(?<![\w@.+-])@([^\W\d_][\w.'-]{0,63})")


def handles(body: str) -> list[str]:
    """The distinct handles in `body`, lower-cased, in order of first mention."""
    found: dict[str, None] = {}
    for match in MENTION.finditer(body):
        handle = match.group(1).rstrip(".'-").lower()
        found.setdefault(handle, None)
    return list(found)
