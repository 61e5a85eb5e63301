-- Each row's company: the user's (live) company with the row's domain, else, for a company
-- named without a domain (a free-mail address), the user's company by that name.
WITH by_domain AS (
    SELECT r.row_no, coalesce(c.merged_into_id, c.id) AS company_id
    FROM crm.import_rows r
    JOIN crm.companies c ON c.user_id = %(user_id)s AND c.domain = r.company_domain
    WHERE r.run_id = %(run_id)s
), by_name AS (
    SELECT DISTINCT ON (r.row_no) r.row_no, c.id AS company_id
    FROM crm.import_rows r
    JOIN crm.companies c ON c.user_id = %(user_id)s AND c.merged_into_id IS NULL
         AND lower(c.name) = lower(r.company)
    WHERE r.run_id = %(run_id)s AND r.company_domain IS NULL AND r.company <> ''
    ORDER BY r.row_no, c.id
)
UPDATE crm.import_rows r
SET company_id = f.company_id
FROM (SELECT * FROM by_domain UNION ALL SELECT * FROM by_name) f
WHERE r.run_id = %(run_id)s AND r.row_no = f.row_no
