-- Record interactions and mark the batch's messages processed: they leave crm.message_pending,
-- and crm.message_automated holds the automated ones with their reason (a re-extraction that
-- finds a message no longer automated deletes its row). No message row is updated.
-- The messages taken off the list now (only those: a re-run or a concurrent batch finds their
-- rows gone) are counted into crm.recipient_senders (migration 0057), in key order.
-- Returns only the links inserted now (a re-run returns nothing), which are the only ones
-- `apply_links` adds to name votes and counts.
WITH batch AS (
    SELECT DISTINCT ON (r.id) r.id, r.reason
    FROM jsonb_to_recordset(%(messages)s::jsonb) AS r(id bigint, reason text)
    ORDER BY r.id
), processed AS (
    DELETE FROM crm.message_pending p USING batch b
    WHERE p.user_id = %(user_id)s AND p.message_id = b.id
    RETURNING p.message_id
), counted AS (
    INSERT INTO crm.recipient_senders AS t (user_id, recipient, sender, messages, name)
    SELECT m.user_id, p.address, coalesce(lower(m.from_address), ''), count(*),
           coalesce(max(m.from_name), '')
    FROM (SELECT DISTINCT p.message_id, p.address
          FROM processed d JOIN crm.message_participants p ON p.message_id = d.message_id
          WHERE p.role IN ('to', 'cc')) p
    JOIN crm.messages m ON m.id = p.message_id
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (user_id, recipient, sender) DO UPDATE
    SET messages = t.messages + excluded.messages, name = greatest(t.name, excluded.name)
), automated AS (
    INSERT INTO crm.message_automated AS a (user_id, message_id, reason)
    SELECT %(user_id)s, b.id, b.reason FROM batch b WHERE b.reason IS NOT NULL
    ON CONFLICT (user_id, message_id) DO UPDATE SET reason = excluded.reason
    WHERE a.reason <> excluded.reason
), cleared AS (
    DELETE FROM crm.message_automated a USING batch b
    WHERE a.user_id = %(user_id)s AND a.message_id = b.id AND b.reason IS NULL
)
INSERT INTO crm.contact_links (message_id, address, role, user_id, display_name, occurred_on, visible)
SELECT l.message_id, l.address, l.role, %(user_id)s, l.display_name, l.occurred_on, l.visible
FROM jsonb_to_recordset(%(links)s::jsonb) AS l(
    message_id bigint, address text, role text, display_name text,
    occurred_on timestamptz, visible boolean)
ORDER BY l.message_id, l.address, l.role
ON CONFLICT (message_id, address, role) DO NOTHING
RETURNING message_id, address, role
