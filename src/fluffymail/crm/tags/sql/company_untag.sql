-- Take a tag off one of the user's companies; a row only when it was on.
DELETE FROM crm.company_tags ct
USING crm.companies co
WHERE ct.tag_id = %(tag_id)s AND ct.company_id = %(company_id)s
  AND co.id = ct.company_id AND co.user_id = %(user_id)s
RETURNING ct.company_id
