-- Each row's company: the user's (live) company with the row's domain, else, for a company
-- named without a domain (a free-mail address), the user's company by that name.
UPDATE crm.import_rows r
SET company_id = coalesce(
        (SELECT coalesce(c.merged_into_id, c.id) FROM crm.companies c
         WHERE c.user_id = %(user_id)s AND c.domain = r.company_domain),
        (SELECT c.id FROM crm.companies c
         WHERE r.company_domain IS NULL AND r.company <> '' AND c.user_id = %(user_id)s
           AND c.merged_into_id IS NULL AND lower(c.name) = lower(r.company)
         ORDER BY c.id LIMIT 1))
WHERE r.run_id = %(run_id)s AND (r.company_domain IS NOT NULL OR r.company <> '')
