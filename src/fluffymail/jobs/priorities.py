"""The product's job priorities, in one scale: what a person waits for goes first, bulk last.

A worker claims higher priorities first within a queue (`priority DESC`, then oldest).
"""

from __future__ import annotations

ASKED = 10  # work a person just asked for: "Sync now", a new connection's first sync
BACKGROUND = 0  # the 15-minute syncs and the follow-ups they chain (the queue's default)
BULK = -10  # bulk history: the nightly rescore of every user, full re-analysis
