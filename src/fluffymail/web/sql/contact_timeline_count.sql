-- How many messages a contact's timeline has (contact_timeline.sql past its last page).
SELECT count(DISTINCT l.message_id)
FROM crm.contact_addresses a
JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
WHERE a.contact_id = %(id)s AND a.user_id = %(user_id)s
