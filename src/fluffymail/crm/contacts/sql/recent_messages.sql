-- The contact's own recent person-to-person messages (newest first): signature evidence.
SELECT m.id, m.date, m.from_name, l.address AS from_address, m.body_text
FROM crm.contact_addresses a
JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address AND l.role = 'received_from'
JOIN crm.messages m ON m.id = l.message_id
WHERE a.contact_id = %(id)s
  AND NOT EXISTS (SELECT 1 FROM crm.message_automated x
                  WHERE x.user_id = m.user_id AND x.message_id = m.id)
ORDER BY m.date DESC NULLS LAST, m.id DESC
LIMIT %(limit)s
