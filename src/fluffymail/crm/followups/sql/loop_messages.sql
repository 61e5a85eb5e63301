-- Messages that may hold an open loop, since `since`: each contact's messages to the user
-- after the user last wrote to them (unanswered), and the user's last message to each contact
-- (a promise in it is still open); automated mail, and questions from people the user has
-- never written to (cold outreach), left out. Newest first.
WITH target AS (
    SELECT a.address, t.id AS contact_id, t.sent_to_count > 0 AS written_to
    FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    JOIN crm.contacts t ON t.id = coalesce(c.merged_into_id, c.id)
    WHERE a.user_id = %(user_id)s AND t.suppressed_reason IS NULL
), links AS (
    SELECT DISTINCT t.contact_id, t.written_to, l.role, m.id AS message_id, m.date
    FROM target t
    JOIN crm.contact_links l ON l.user_id = %(user_id)s AND l.address = t.address
    JOIN crm.messages m ON m.id = l.message_id
    WHERE l.role IN ('sent_to', 'received_from') AND m.date >= %(since)s
      AND m.date <= %(now)s
      AND NOT EXISTS (SELECT 1 FROM crm.message_automated x
                      WHERE x.user_id = %(user_id)s AND x.message_id = m.id)
), last_out AS (
    SELECT DISTINCT ON (contact_id) contact_id, message_id, date
    FROM links WHERE role = 'sent_to'
    ORDER BY contact_id, date DESC, message_id DESC
), picked AS (
    SELECT k.contact_id, k.message_id, 'received' AS direction
    FROM links k LEFT JOIN last_out o ON o.contact_id = k.contact_id
    WHERE k.role = 'received_from' AND k.written_to AND (o.date IS NULL OR k.date > o.date)
    UNION ALL
    SELECT contact_id, message_id, 'sent' FROM last_out
)
SELECT p.contact_id, p.message_id, p.direction, m.date, m.body_text
FROM picked p JOIN crm.messages m ON m.id = p.message_id
ORDER BY m.date DESC, m.id DESC
LIMIT %(limit)s
