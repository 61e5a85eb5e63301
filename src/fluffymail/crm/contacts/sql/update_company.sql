-- A signature names the company better than its domain label (never overrides the user).
UPDATE crm.companies
SET name = CASE WHEN %(name)s::text IS NOT NULL AND name_source = 'domain' THEN %(name)s ELSE name END,
    name_source = CASE WHEN %(name)s::text IS NOT NULL AND name_source = 'domain'
                       THEN 'signature' ELSE name_source END,
    website = coalesce(website, %(website)s),
    updated_on = %(now)s
WHERE id = %(id)s
