UPDATE crm.contacts c
SET suppressed_reason = 'self', updated_on = %(now)s
FROM crm.contact_addresses ca
WHERE ca.user_id = %(user_id)s AND ca.address = ANY(%(aliases)s::text[])
  AND c.id = ca.contact_id AND c.suppressed_reason IS NULL
