-- One of the user's companies, locked for a change; `domain` finds it by domain instead.
SELECT id, name, domain, website, name_source, merged_into_id
FROM crm.companies
WHERE user_id = %(user_id)s
  AND (id = %(id)s::bigint OR (%(id)s::bigint IS NULL AND domain = %(domain)s::text))
FOR UPDATE
