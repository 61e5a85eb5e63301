-- Move contacts from one company to another: all of the company's, or only those listed (undo).
UPDATE crm.contacts
SET company_id = %(to_id)s, updated_on = %(now)s
WHERE user_id = %(user_id)s AND company_id = %(from_id)s
  AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
RETURNING id
