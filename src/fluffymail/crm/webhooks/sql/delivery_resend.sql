-- A new delivery of a delivery's event to the same webhook (the log keeps the first).
INSERT INTO crm.webhook_deliveries (webhook_id, event_id, subject, resend_of)
SELECT d.webhook_id, d.event_id, d.subject, d.id
FROM crm.webhook_deliveries d
WHERE d.id = %(id)s AND d.webhook_id = %(webhook_id)s
RETURNING id AS delivery_id, webhook_id, subject
