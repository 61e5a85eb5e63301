-- Hand a batch of pending outgoing events to the webhooks: one delivery per enabled
-- subscription of the event's workspace that wants its kind, in event order (so delivery ids
-- follow event ids), and the events marked handed over (`delivered_on`). One row per delivery
-- made, or a single row without one; `taken` counts the events handed over.
WITH events AS (
    SELECT id, workspace_id, user_id, kind, payload
    FROM crm.outgoing_events
    WHERE delivered_on IS NULL
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE crm.outgoing_events e SET delivered_on = now()
    FROM events WHERE e.id = events.id
), made AS (
    INSERT INTO crm.webhook_deliveries (webhook_id, event_id, subject)
    SELECT w.id, e.id,
           CASE WHEN e.payload ? 'contact_id' THEN 'contact-' || (e.payload ->> 'contact_id')
                WHEN e.payload ? 'connection_id' THEN 'connection-' || (e.payload ->> 'connection_id')
                ELSE 'user-' || coalesce(e.user_id::text, '') END
    FROM events e
    JOIN crm.webhooks w ON w.workspace_id = e.workspace_id AND w.enabled AND e.kind = ANY (w.events)
    ORDER BY e.id, w.id
    RETURNING id, webhook_id, subject
)
SELECT m.id AS delivery_id, m.webhook_id, m.subject, t.taken
FROM (SELECT count(*) AS taken FROM events) t
LEFT JOIN made m ON true
ORDER BY m.id
