-- A `webhook.test` event for one webhook (the "Send test event" button), handed over at once.
WITH event AS (
    INSERT INTO crm.outgoing_events (workspace_id, user_id, kind, payload, delivered_on)
    SELECT w.workspace_id, %(user_id)s, 'webhook.test',
           jsonb_build_object('webhook_id', w.id, 'message', 'A test event from FluffyMail'), now()
    FROM crm.webhooks w WHERE w.id = %(id)s AND w.workspace_id = %(workspace_id)s
    RETURNING id, user_id
)
INSERT INTO crm.webhook_deliveries (webhook_id, event_id, subject)
SELECT %(id)s, id, 'test' FROM event
RETURNING id AS delivery_id, webhook_id, subject
