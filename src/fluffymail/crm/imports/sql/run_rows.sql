-- A page of a run's staged rows, in file order, with what each became.
SELECT row_no, address, address_defect, name, company, company_domain, website, title, phones,
       tags, notes, contact_id, company_id, outcome
FROM crm.import_rows
WHERE run_id = %(id)s
ORDER BY row_no
LIMIT %(limit)s OFFSET %(offset)s
