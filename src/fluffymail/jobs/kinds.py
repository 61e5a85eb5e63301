"""The names of FluffyMail's job kinds (their queues), each module's `QUEUE`: one spelling each."""

from __future__ import annotations

ANALYZE_RELATIONSHIPS = "analyze-relationships"
APPLY_CONTACT_POLICY = "apply-contact-policy"
DELETE_CONNECTION = "delete-connection"
DELIVER_WEBHOOK = "deliver-webhook"
DELIVER_WEBHOOK_DEAD = "deliver-webhook-dead"  # deliver-webhook's dead letters
DISPATCH_WEBHOOKS = "dispatch-webhooks"
ENRICH_CONTACT = "enrich-contact"
EXTRACT_CONTACTS = "extract-contacts"
FOLLOWUP_REMINDER = "followup-reminder"
IMPORT_RECORDS = "import-records"
INDEX_MESSAGES = "index-messages"
RECOMPUTE_FOLLOWUPS = "recompute-followups"
SUMMARIZE_RELATIONSHIP = "summarize-relationship"
SYNC_CALENDAR = "sync-calendar"
SYNC_EMAILS = "sync-emails"
