-- How many visible people one of the user's companies has (company_get.sql's `people`: those
-- the contacts list shows under ?company=), without company_get.sql's roll-up of their
-- figures (70 ms for a company of 1,100 people at 1M messages, issue 19).
SELECT count(*) AS people
FROM crm.contacts c
WHERE c.company_id = %(id)s AND c.user_id = %(user_id)s AND c.created
  AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
