-- A contact's interactions: each message linked to any of its addresses, newest first, with
-- the roles the contact had in it; `total` counts them all.
SELECT m.id, m.date, m.subject, m.snippet, m.from_address, m.from_name, m.thread_id,
       array_agg(DISTINCT l.role ORDER BY l.role) AS roles,
       count(*) OVER () AS total
FROM crm.contact_addresses a
JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
JOIN crm.messages m ON m.id = l.message_id AND m.user_id = a.user_id
WHERE a.contact_id = %(id)s AND a.user_id = %(user_id)s
GROUP BY m.id
ORDER BY m.date DESC NULLS LAST, m.id DESC
LIMIT %(limit)s OFFSET %(offset)s
