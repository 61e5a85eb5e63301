-- Each row's company, when the user has one with its domain (the one it was merged into,
-- if it was): the import updates it.
UPDATE crm.import_rows r
SET company_id = coalesce(c.merged_into_id, c.id), outcome = 'updated'
FROM crm.companies c
WHERE r.run_id = %(run_id)s AND c.user_id = %(user_id)s AND c.domain = r.company_domain
