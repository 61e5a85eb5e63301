-- The user's contacts hidden by hand or marked not a person (to show them again), newest first.
SELECT c.id, coalesce(nullif(c.name, ''), c.primary_address) AS label, c.suppressed_reason
FROM crm.contacts c
WHERE c.user_id = %(user_id)s AND c.merged_into_id IS NULL
  AND c.suppressed_reason IN ('user', 'not_person')
ORDER BY c.updated_on DESC, c.id DESC
LIMIT %(limit)s
