-- A company for each row whose domain the user has none with, named as the file says
-- (a name the file gives is the user's: name_source 'user').
WITH made AS (
    INSERT INTO crm.companies (user_id, domain, name, name_source, website, created_on,
                               updated_on)
    SELECT %(user_id)s, r.company_domain, r.name,
           CASE WHEN r.company <> '' THEN 'user' ELSE 'domain' END, r.website, %(now)s, %(now)s
    FROM crm.import_rows r
    WHERE r.run_id = %(run_id)s AND r.company_id IS NULL
    ORDER BY r.row_no
    ON CONFLICT (user_id, domain) DO NOTHING
    RETURNING id, domain
)
UPDATE crm.import_rows r
SET company_id = made.id, outcome = 'created'
FROM made
WHERE r.run_id = %(run_id)s AND r.company_domain = made.domain
