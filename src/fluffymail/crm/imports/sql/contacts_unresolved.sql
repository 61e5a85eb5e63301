-- Rows that name a company the import could not set (no domain for it, and none of the
-- user's companies has that name).
SELECT row_no, company
FROM crm.import_rows
WHERE run_id = %(run_id)s AND company_given AND company_id IS NULL AND contact_id IS NOT NULL
ORDER BY row_no
LIMIT 1000
