-- The contact to summarise and its user (the two people of the request).
SELECT c.id, c.user_id, c.primary_address, c.name, c.merged_into_id,
       u.email AS user_email, u.name AS user_name
FROM crm.contacts c
JOIN crm.users u ON u.id = c.user_id
WHERE c.id = %(contact_id)s AND c.user_id = %(user_id)s
