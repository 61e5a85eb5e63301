-- Contacts suppressed as 'self' because of an address that is no longer the user's come back.
UPDATE crm.contacts c
SET suppressed_reason = NULL, updated_on = %(now)s
FROM crm.contact_addresses ca
WHERE ca.user_id = %(user_id)s AND ca.address = ANY(%(addresses)s::text[])
  AND c.id = ca.contact_id AND c.suppressed_reason = 'self'
