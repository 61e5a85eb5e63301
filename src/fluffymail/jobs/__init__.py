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

    sync-emails (stately per connection; each job a run of the mailbox-sync workflow: read,
    extract, analyse, index), extract-contacts (batches of messages; nightly, the mail left
    unextracted), index-messages (the search rows of a run's mail, in chunks; nightly, the
    mail left without them),
    enrich-contact (debounced per contact), analyze-relationships (incremental per user),
    summarize-relationship (one contact), delete-connection, apply-contact-policy (a
    connection's changed creation policy, on its mail already extracted),
    followup-reminder (one per follow-up), recompute-followups (per user; nightly for all),
    sync-calendar (a Gmail connection's calendar, after each of its mail syncs),
    dispatch-webhooks (the outbox, every 10 s), deliver-webhook (one delivery),
    deliver-webhook-dead (a delivery given up) and import-records (a confirmed CSV or vCard
    import, in one transaction).
    """
    from fluffymail.jobs import (
        analyze_relationships,
        apply_contact_policy,
        delete_connection,
        deliver_webhook,
        dispatch_webhooks,
        enrich_contact,
        extract_contacts,
        followup_reminder,
        import_records,
        index_messages,
        recompute_followups,
        summarize_relationship,
        sync_calendar,
        sync_emails,
        webhook_dead_letter,
    )
    from fluffymail.queue.registry import Registry
    from fluffymail.queue.workflows import Workflows

    clock = clock or SystemClock()
    children = Workflows(deps.queue)  # extraction jobs sent into a sync's run report to it
    registry = Registry()
    handlers = [  # (job kind's module, its handler, concurrency per worker process)
        (sync_emails, sync_emails.make_handler(deps, clock), 2),
        (
            extract_contacts,
            children.child_handler(
                extract_contacts.make_handler(
                    deps, clock, enrich_debounce=deps.settings.enrich_debounce
                )
            ),
            5,
        ),
        # the search rows of a sync's mail, after its people and scores (issue 19)
        (index_messages, children.child_handler(index_messages.make_handler(deps, clock)), 2),
        (enrich_contact, enrich_contact.make_handler(deps, clock), 3),
        # two slots: one user's long analysis never holds back another's (issue 19); its
        # stately key still runs one analysis per user at a time
        (analyze_relationships, analyze_relationships.make_handler(deps, clock), 2),
        (summarize_relationship, summarize_relationship.make_handler(deps, clock), 2),
        (delete_connection, delete_connection.make_handler(deps, clock), 1),
        (apply_contact_policy, apply_contact_policy.make_handler(deps, clock), 1),
        (followup_reminder, followup_reminder.make_handler(deps, clock), 2),
        (recompute_followups, recompute_followups.make_handler(deps, clock), 1),
        (dispatch_webhooks, dispatch_webhooks.make_handler(deps, clock), 1),
        (deliver_webhook, deliver_webhook.make_handler(deps, clock), 4),
        (webhook_dead_letter, webhook_dead_letter.make_handler(deps, clock), 1),
        (sync_calendar, sync_calendar.make_handler(deps, clock), 1),
        (import_records, import_records.make_handler(deps, clock), 1),
    ]
    for kind, handler, concurrency in handlers:
        registry.register(kind.QUEUE, handler, concurrency=concurrency, **kind.QUEUE_OPTIONS)
    return registry
