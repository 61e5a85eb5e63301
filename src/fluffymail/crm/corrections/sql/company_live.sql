-- One of the user's companies, locked for a change; `domain` finds it by domain instead.
-- `absorbed`: other companies were merged into it.
SELECT id, name, domain, website, name_source, merged_into_id,
       EXISTS (SELECT FROM crm.companies a WHERE a.merged_into_id = c.id) AS absorbed
FROM crm.companies c
WHERE user_id = %(user_id)s
  AND (id = %(id)s::bigint OR (%(id)s::bigint IS NULL AND domain = %(domain)s::text))
FOR UPDATE
