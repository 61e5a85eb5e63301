"""FluffyMail's job kinds: one module per kind; `build_registry` wires them to their handlers."""

from __future__ import annotations

from fluffymail.jobs.deps import JobDeps
from fluffymail.queue.registry import Registry


def build_registry(deps: JobDeps) -> Registry:
    """Every FluffyMail job kind with its handler and queue options.

    The seed's kinds (sync-emails, extract-contacts, enrich-contact, analyze-relationships)
    register here as their modules land.
    """
    del deps
    return Registry()
