-- The contacts the rows matched, changed as the user would by hand: a name or a company the
-- file gives is theirs ('you': kept when more mail arrives); an empty cell changes nothing.
-- Imported contacts are shown and kept whatever the creation policy (never un-hidden). A
-- contact the file does not change is not written (no update, no webhook event).
UPDATE crm.contacts c
SET name = CASE WHEN r.name <> '' THEN r.name ELSE c.name END,
    first_name = CASE WHEN r.name <> '' THEN r.first_name ELSE c.first_name END,
    last_name = CASE WHEN r.name <> '' THEN r.last_name ELSE c.last_name END,
    name_quality = CASE WHEN r.name <> '' THEN r.name_quality ELSE c.name_quality END,
    name_source = CASE WHEN r.name <> '' THEN 'you' ELSE c.name_source END,
    company_id = CASE WHEN r.company_given AND r.company_id IS NOT NULL THEN r.company_id
                      ELSE c.company_id END,
    company_source = CASE WHEN r.company_given AND r.company_id IS NOT NULL THEN 'you'
                          ELSE c.company_source END,
    created = true,
    kept_on = coalesce(c.kept_on, %(now)s),
    visible_on = coalesce(c.visible_on, %(now)s),
    updated_on = %(now)s
FROM crm.import_rows r
WHERE r.run_id = %(run_id)s AND r.outcome = 'updated' AND c.id = r.contact_id
  AND c.user_id = %(user_id)s AND c.merged_into_id IS NULL
  AND (NOT c.created OR c.kept_on IS NULL OR c.visible_on IS NULL  -- only what changes is written
       OR (r.name <> '' AND (r.name, r.first_name, r.last_name, 'you')
                            IS DISTINCT FROM (c.name, c.first_name, c.last_name, c.name_source))
       OR (r.company_given AND r.company_id IS NOT NULL
           AND (r.company_id, 'you') IS DISTINCT FROM (c.company_id, c.company_source)))
