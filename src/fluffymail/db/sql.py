"""Load a package's `.sql` files once into a read-only mapping of name -> statement."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import LiteralString, cast


def load_sql(package: str, folder: str = "sql") -> Mapping[str, LiteralString]:
    """Read every `<package>/<folder>/*.sql` file; the key is the file name without `.sql`."""
    root = resources.files(package).joinpath(folder)
    queries = {
        entry.name.removesuffix(".sql"): cast(LiteralString, entry.read_text("utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    }
    return MappingProxyType(queries)
