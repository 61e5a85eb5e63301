-- The people seen writing to a group (To/Cc), the user and the user's aliases left out, most
-- messages first, with the contact behind each address when there is one.
WITH me AS (
    SELECT email AS address FROM crm.users WHERE id = %(user_id)s
    UNION SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
), sent AS (
    SELECT lower(m.from_address) AS address, max(m.from_name) AS name,
           count(DISTINCT m.id) AS messages
    FROM crm.contact_addresses a
    JOIN crm.message_participants p ON p.address = a.address AND p.role IN ('to', 'cc')
    JOIN crm.messages m ON m.id = p.message_id AND m.user_id = %(user_id)s
    WHERE a.user_id = %(user_id)s AND a.contact_id = %(id)s AND m.from_address IS NOT NULL
      AND lower(m.from_address) NOT IN (SELECT address FROM me)
    GROUP BY 1
)
SELECT s.address, coalesce(nullif(c.name, ''), nullif(s.name, ''), '') AS name,
       s.messages, coalesce(c.merged_into_id, c.id) AS contact_id
FROM sent s
LEFT JOIN crm.contact_addresses ca ON ca.user_id = %(user_id)s AND ca.address = s.address
LEFT JOIN crm.contacts c ON c.id = ca.contact_id
ORDER BY s.messages DESC, s.address
LIMIT %(limit)s
