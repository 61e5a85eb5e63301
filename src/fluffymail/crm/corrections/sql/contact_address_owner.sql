-- Which of the user's contacts has this address, if any, and why it is hidden (NULL: shown).
SELECT a.contact_id, c.suppressed_reason
FROM crm.contact_addresses a JOIN crm.contacts c ON c.id = a.contact_id
WHERE a.user_id = %(user_id)s AND a.address = %(address)s
