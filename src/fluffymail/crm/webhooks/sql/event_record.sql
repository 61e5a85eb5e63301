-- An outgoing event of the user's workspace, when one of its webhooks subscribes to the kind
-- (migration 0027); its id, or NULL.
SELECT crm.record_webhook_event(%(user_id)s, %(kind)s, %(payload)s::jsonb) AS id
