-- The demo's closing table: the user's strongest relationships with the first fact behind each.
SELECT coalesce(nullif(c.name, ''), c.primary_address) AS name,
       co.name AS company,
       r.score,
       r.level,
       r.evidence -> 0 ->> 'text' AS why
  FROM crm.relationships r
  JOIN crm.contacts c ON c.id = r.contact_id
  LEFT JOIN crm.companies co ON co.id = c.company_id
 WHERE r.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
   AND c.suppressed_reason IS NULL AND c.kind = 'person'
 ORDER BY r.score DESC, r.contact_id
 LIMIT %(limit)s
