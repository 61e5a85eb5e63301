-- The interactions to fold, one row per (message, contact), grouped by contact (the state
-- sorts each contact's batch itself, so the window's order is kept and not sorted again):
-- messages with id in (lo, hi] for every contact, and every message up to hi for the
-- contacts in `fresh` (rebuilt from scratch). A message is an interaction with a contact
-- when the user wrote it to them (To: direct, Cc: cc) or they wrote it to the user (direct
-- unless the user was only on Cc); mail where both were only co-recipients is not.
-- is_reply: the previous message of the same contact in the same thread went the other way
-- (older messages of the thread are read for that, not returned).
WITH me AS (
    SELECT email AS address FROM crm.users WHERE id = %(user_id)s
    UNION
    SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
), target AS (
    SELECT a.address, t.id AS contact_id
    FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    JOIN crm.contacts t ON t.id = coalesce(c.merged_into_id, c.id)
    WHERE a.user_id = %(user_id)s AND t.suppressed_reason IS NULL
), new_link AS (   -- two branches, so the new mail is found by message id range
    SELECT l.message_id, t.contact_id, l.role
    FROM crm.contact_links l
    JOIN target t ON t.address = l.address
    WHERE l.message_id > %(lo)s AND l.message_id <= %(hi)s AND l.user_id = %(user_id)s
      AND l.role IN ('sent_to', 'received_from', 'cc')
    UNION ALL
    SELECT l.message_id, t.contact_id, l.role
    FROM target t
    JOIN crm.contact_links l ON l.user_id = %(user_id)s AND l.address = t.address
    WHERE t.contact_id = ANY(%(fresh)s::bigint[]) AND l.message_id <= %(lo)s
      AND l.role IN ('sent_to', 'received_from', 'cc')
), scope AS (
    SELECT DISTINCT n.contact_id, m.thread_id
    FROM new_link n JOIN crm.messages m ON m.id = n.message_id
    WHERE m.thread_id IS NOT NULL AND %(lo)s > 0 AND NOT n.contact_id = ANY(%(fresh)s::bigint[])
), old_link AS (
    SELECT l.message_id, s.contact_id, l.role
    FROM scope s
    JOIN crm.messages m ON m.thread_id = s.thread_id AND m.id <= %(lo)s
    JOIN crm.contact_links l ON l.message_id = m.id
        AND l.role IN ('sent_to', 'received_from', 'cc')
    JOIN target t ON t.address = l.address AND t.contact_id = s.contact_id
), pair AS (
    SELECT k.message_id, k.contact_id,
           bool_or(k.role = 'sent_to') AS to_them,
           bool_or(k.role = 'received_from') AS from_them
    FROM (SELECT * FROM new_link UNION ALL SELECT * FROM old_link) k
    GROUP BY k.message_id, k.contact_id
), message AS (
    SELECT p.message_id, p.contact_id, p.to_them, p.from_them, m.date,
           coalesce(m.thread_id, -m.id) AS thread_id,
           (lower(m.from_address) IN (SELECT address FROM me)
            OR EXISTS (SELECT 1 FROM crm.contact_links s
                       WHERE s.message_id = m.id AND s.role = 'sent_to')) AS outgoing
    FROM pair p JOIN crm.messages m ON m.id = p.message_id
    WHERE m.date IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM crm.message_automated x
                      WHERE x.user_id = %(user_id)s AND x.message_id = m.id)
), interaction AS (
    SELECT message_id, contact_id, date, thread_id, outgoing,
           CASE WHEN outgoing THEN to_them
                ELSE NOT EXISTS (
                    SELECT 1 FROM crm.message_participants p
                    WHERE p.message_id = message.message_id AND p.role = 'cc'
                      AND lower(p.address) IN (SELECT address FROM me))
                  OR EXISTS (
                    SELECT 1 FROM crm.message_participants p
                    WHERE p.message_id = message.message_id AND p.role = 'to'
                      AND lower(p.address) IN (SELECT address FROM me))
           END AS direct
    FROM message
    WHERE outgoing OR from_them
), ordered AS (
    SELECT i.*,
           lag(outgoing) OVER w AS prev_outgoing,
           lag(date) OVER w AS prev_date
    FROM interaction i
    WINDOW w AS (PARTITION BY contact_id, thread_id ORDER BY date, message_id)
)
SELECT contact_id, message_id, date, outgoing, direct, thread_id,
       coalesce(prev_outgoing <> outgoing, false) AS is_reply,
       CASE WHEN prev_outgoing <> outgoing
            THEN extract(epoch FROM date - prev_date)::float8 END AS latency_seconds
FROM ordered
WHERE message_id > %(lo)s OR contact_id = ANY(%(fresh)s::bigint[])
ORDER BY contact_id
