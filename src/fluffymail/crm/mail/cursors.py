"""A connection's sync cursor as per-folder parts (the rows of `crm.sync_cursors`), and back.

Pure: no SQL (`repo` stores the parts). A cursor `{"folders": {name: position}, ...rest}` is
one part per folder plus the rest under `CONNECTION_PART` (Gmail's history id lives there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CONNECTION_PART", "CursorChange", "change", "join", "split"]

CONNECTION_PART = ""  # the part of a cursor that belongs to no folder (no folder is named "")

Parts = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class CursorChange:
    """What a batch changes in the stored parts: the parts to write and the ones to drop."""

    upserts: Parts
    deletes: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.upserts and not self.deletes


def split(cursor: Mapping[str, Any] | None) -> Parts:
    """The cursor's parts by folder name; the non-folder keys under `CONNECTION_PART`."""
    if not cursor:
        return {}
    folders = cursor.get("folders")
    parts: Parts = {}
    if isinstance(folders, Mapping):
        parts = {str(name): dict(value) for name, value in folders.items()}
    rest = {key: value for key, value in cursor.items() if key != "folders"}
    if rest:
        parts[CONNECTION_PART] = rest
    return parts


def join(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any] | None:
    """The cursor from its stored `(folder, position)` parts; None when there are none."""
    parts = {folder: dict(position) for folder, position in rows}
    if not parts:
        return None
    cursor: dict[str, Any] = parts.pop(CONNECTION_PART, {})
    if parts:
        cursor["folders"] = parts
    return cursor


def change(before: Parts, after: Parts) -> CursorChange:
    """The parts that differ between two cursors: usually the one folder a batch read."""
    upserts = {name: value for name, value in after.items() if before.get(name) != value}
    deletes = tuple(sorted(name for name in before if name not in after))
    return CursorChange(upserts=upserts, deletes=deletes)
