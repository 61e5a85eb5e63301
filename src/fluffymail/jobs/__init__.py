"""FluffyMail's job kinds: one module per kind; `build_registry` wires them to their handlers.

Importing this package imports no job module (they pull in the contacts, relationships and
provider libraries); `build_registry` imports them all, and `from fluffymail.jobs import x`
imports one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fluffymail.clock import Clock, SystemClock

if TYPE_CHECKING:
    from fluffymail.jobs.deps import JobDeps
    from fluffymail.queue.registry import Registry


def build_registry(deps: JobDeps, clock: Clock | None = None) -> Registry:
    """Every FluffyMail job kind with its handler and queue options.

    sync-emails (stately per connection), extract-contacts (batches of messages),
    enrich-contact (debounced per contact), analyze-relationships (incremental per user),
    summarize-relationship (one contact), delete-connection, apply-contact-policy (a
    connection's changed creation policy, on its mail already extracted),
    followup-reminder (one per follow-up) and recompute-followups (per user; nightly for all).
    """
    from fluffymail.jobs import (
        analyze_relationships,
        apply_contact_policy,
        delete_connection,
        enrich_contact,
        extract_contacts,
        followup_reminder,
        recompute_followups,
        summarize_relationship,
        sync_emails,
    )
    from fluffymail.queue.registry import Registry

    clock = clock or SystemClock()
    registry = Registry()
    registry.register(
        sync_emails.QUEUE,
        sync_emails.make_handler(deps, clock),
        concurrency=2,
        **sync_emails.QUEUE_OPTIONS,
    )
    registry.register(
        extract_contacts.QUEUE,
        extract_contacts.make_handler(deps, clock, enrich_debounce=deps.settings.enrich_debounce),
        concurrency=5,
        **extract_contacts.QUEUE_OPTIONS,
    )
    registry.register(
        enrich_contact.QUEUE,
        enrich_contact.make_handler(deps, clock),
        concurrency=3,
        **enrich_contact.QUEUE_OPTIONS,
    )
    registry.register(
        analyze_relationships.QUEUE,
        analyze_relationships.make_handler(deps, clock),
        concurrency=1,
        **analyze_relationships.QUEUE_OPTIONS,
    )
    registry.register(
        summarize_relationship.QUEUE,
        summarize_relationship.make_handler(deps, clock),
        concurrency=2,
        **summarize_relationship.QUEUE_OPTIONS,
    )
    registry.register(
        delete_connection.QUEUE,
        delete_connection.make_handler(deps, clock),
        concurrency=1,
        **delete_connection.QUEUE_OPTIONS,
    )
    registry.register(
        apply_contact_policy.QUEUE,
        apply_contact_policy.make_handler(deps, clock),
        concurrency=1,
        **apply_contact_policy.QUEUE_OPTIONS,
    )
    registry.register(
        followup_reminder.QUEUE,
        followup_reminder.make_handler(deps, clock),
        concurrency=2,
        **followup_reminder.QUEUE_OPTIONS,
    )
    registry.register(
        recompute_followups.QUEUE,
        recompute_followups.make_handler(deps, clock),
        concurrency=1,
        **recompute_followups.QUEUE_OPTIONS,
    )
    return registry
