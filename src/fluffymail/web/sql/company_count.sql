-- How many of a user's companies match the list filter (company_list.sql without the page).
SELECT count(DISTINCT co.id)
FROM crm.companies co
JOIN crm.contacts c ON c.company_id = co.id AND c.user_id = co.user_id AND c.created
     AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
WHERE co.user_id = %(user_id)s
  AND (%(search)s::text IS NULL
       OR (length(crm.fold(%(search)s::text)) < 3
           OR crm.trigrams(co.name) @> crm.trigrams(%(search)s::text))
          AND strpos(crm.fold(co.name), crm.fold(%(search)s::text)) > 0
       OR (length(crm.fold(%(search)s::text)) < 3
           OR crm.trigrams(co.domain) @> crm.trigrams(%(search)s::text))
          AND strpos(crm.fold(co.domain), crm.fold(%(search)s::text)) > 0)
  AND (%(tag_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.company_tags ct WHERE ct.company_id = co.id AND ct.tag_id = %(tag_id)s::bigint))
