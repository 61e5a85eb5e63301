-- The participants of one of the user's messages, with the contact each address belongs to.
SELECT p.role, p.address, p.display_name, a.contact_id
FROM crm.message_participants p
JOIN crm.messages m ON m.id = p.message_id
LEFT JOIN crm.contact_addresses a ON a.user_id = m.user_id AND a.address = p.address
WHERE p.message_id = %(id)s AND m.user_id = %(user_id)s
ORDER BY CASE p.role WHEN 'from' THEN 0 WHEN 'sender' THEN 1 WHEN 'reply_to' THEN 2
                     WHEN 'to' THEN 3 WHEN 'cc' THEN 4 ELSE 5 END, p.position
