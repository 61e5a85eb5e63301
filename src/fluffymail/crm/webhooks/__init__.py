"""Webhooks: a workspace's subscriptions to its outgoing events, their deliveries (one per
subscription and event, delivered in order per subject) and each attempt's outcome, plus the
Standard Webhooks signature. No HTTP client, no queue internals."""
