-- Put a tag on one of the user's companies; a row only when it was not tagged yet.
INSERT INTO crm.company_tags (company_id, tag_id, tagged_by)
SELECT co.id, %(tag_id)s, %(user_id)s
FROM crm.companies co
WHERE co.id = %(company_id)s AND co.user_id = %(user_id)s
ON CONFLICT DO NOTHING
RETURNING company_id
