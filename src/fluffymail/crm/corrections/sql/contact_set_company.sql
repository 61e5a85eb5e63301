-- The user sets (or clears: NULL) their contact's company, one of their own live companies.
UPDATE crm.contacts c
SET company_id = %(company_id)s::bigint, company_source = 'you', updated_on = %(now)s
WHERE c.id = %(id)s AND c.user_id = %(user_id)s AND c.merged_into_id IS NULL
  AND (%(company_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.companies co
      WHERE co.id = %(company_id)s::bigint AND co.user_id = %(user_id)s
        AND co.merged_into_id IS NULL))
RETURNING c.id
