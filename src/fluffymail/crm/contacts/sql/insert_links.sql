-- Record interactions and mark the batch's messages processed (with their automated reason).
-- Returns only the links inserted now (a re-run returns nothing), which are the only ones
-- `apply_links` adds to name votes and counts.
WITH finished AS (
    UPDATE crm.messages m
    SET processed_on = %(now)s, automated_reason = r.reason
    FROM jsonb_to_recordset(%(messages)s::jsonb) AS r(id bigint, reason text)
    WHERE m.id = r.id
)
INSERT INTO crm.contact_links (message_id, address, role, user_id, display_name, occurred_on, visible)
SELECT l.message_id, l.address, l.role, %(user_id)s, l.display_name, l.occurred_on, l.visible
FROM jsonb_to_recordset(%(links)s::jsonb) AS l(
    message_id bigint, address text, role text, display_name text,
    occurred_on timestamptz, visible boolean)
ORDER BY l.message_id, l.address, l.role
ON CONFLICT (message_id, address, role) DO NOTHING
RETURNING message_id, address, role
