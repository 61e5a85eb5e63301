-- The companies the rows matched: a name or website the file gives replaces theirs (a name
-- as the user's own, kept from signatures); an empty cell changes nothing.
UPDATE crm.companies c
SET name = CASE WHEN r.company <> '' THEN r.company ELSE c.name END,
    name_source = CASE WHEN r.company <> '' THEN 'user' ELSE c.name_source END,
    website = coalesce(r.website, c.website),
    updated_on = %(now)s
FROM crm.import_rows r
WHERE r.run_id = %(run_id)s AND r.outcome = 'updated' AND c.id = r.company_id
  AND c.user_id = %(user_id)s
