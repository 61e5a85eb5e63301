-- The companies' domains a run's rows name, with the name the file gives each (if any).
SELECT company_domain AS domain, max(company) AS name
FROM crm.import_rows
WHERE run_id = %(run_id)s AND company_domain IS NOT NULL
GROUP BY company_domain
