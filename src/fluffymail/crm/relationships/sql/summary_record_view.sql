-- Record that the user opened a contact's page; answer whether its summary is missing or older
-- than the relationship's mail (a scored relationship only: nothing to summarise before).
WITH viewed AS (
    INSERT INTO crm.contact_views AS v (user_id, contact_id, viewed_on)
    SELECT c.user_id, c.id, now() FROM crm.contacts c
    WHERE c.id = %(contact_id)s AND c.user_id = %(user_id)s
    ON CONFLICT (user_id, contact_id) DO UPDATE SET viewed_on = EXCLUDED.viewed_on
)
SELECT r.contact_id IS NOT NULL AND r.sent + r.received > 0
       AND (s.contact_id IS NULL OR s.last_message_at IS NULL OR r.last_at > s.last_message_at)
       AS stale
FROM (SELECT 1) one
LEFT JOIN crm.relationships r ON r.user_id = %(user_id)s AND r.contact_id = %(contact_id)s
LEFT JOIN crm.relationship_summaries s
       ON s.user_id = %(user_id)s AND s.contact_id = %(contact_id)s
