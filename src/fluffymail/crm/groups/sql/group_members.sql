-- The people seen writing to a group (To/Cc), the user and the user's aliases left out, most
-- messages first, with the contact behind each address when there is one: from the counts kept
-- per To/Cc address and sender (crm.recipient_senders, migration 0056).
WITH me AS (
    SELECT email AS address FROM crm.users WHERE id = %(user_id)s
    UNION SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
), sent AS (
    SELECT rs.sender AS address, max(rs.name) AS name, sum(rs.messages) AS messages
    FROM crm.contact_addresses a
    JOIN crm.recipient_senders rs ON rs.user_id = a.user_id AND rs.recipient = a.address
    WHERE a.user_id = %(user_id)s AND a.contact_id = %(id)s AND rs.sender <> ''
      AND rs.sender NOT IN (SELECT address FROM me)
    GROUP BY 1
)
SELECT s.address, coalesce(nullif(c.name, ''), nullif(s.name, ''), '') AS name,
       s.messages, coalesce(c.merged_into_id, c.id) AS contact_id
FROM sent s
LEFT JOIN crm.contact_addresses ca ON ca.user_id = %(user_id)s AND ca.address = s.address
LEFT JOIN crm.contacts c ON c.id = ca.contact_id
ORDER BY s.messages DESC, s.address
LIMIT %(limit)s
