COPY crm.import_rows (run_id, row_no, address, address_defect, name, first_name, last_name,
                      name_quality, company, company_domain, company_given, website, title,
                      phones, tags, notes)
FROM STDIN
