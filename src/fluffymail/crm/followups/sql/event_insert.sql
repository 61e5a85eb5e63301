-- An outgoing event for the webhooks (once per kind and dedup key); its id, none if a
-- duplicate.
INSERT INTO crm.outgoing_events (workspace_id, user_id, kind, dedup_key, payload)
VALUES (%(workspace_id)s, %(user_id)s, %(kind)s, %(dedup_key)s, %(payload)s::jsonb)
ON CONFLICT (kind, dedup_key) DO NOTHING
RETURNING id
