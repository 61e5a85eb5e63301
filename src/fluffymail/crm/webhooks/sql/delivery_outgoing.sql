-- What a delivery job sends: the delivery, its webhook's target and secret, and the event.
SELECT d.id AS delivery_id, d.webhook_id, d.subject, d.state, w.url, w.enabled, w.secret,
       e.id AS event_id, e.kind, e.payload, e.created_on AS event_on
FROM crm.webhook_deliveries d
JOIN crm.webhooks w ON w.id = d.webhook_id
JOIN crm.outgoing_events e ON e.id = d.event_id
WHERE d.id = %(id)s
