-- How many of a previewed run's rows match what the user has (by address, or by domain for
-- companies): those are updated, the others created.
SELECT count(*) FILTER (WHERE CASE WHEN %(kind)s = 'contacts'
        THEN EXISTS (SELECT FROM crm.contact_addresses a
                     WHERE a.user_id = %(user_id)s AND a.address = r.address)
        ELSE EXISTS (SELECT FROM crm.companies c
                     WHERE c.user_id = %(user_id)s AND c.domain = r.company_domain) END)
       AS existing,
       count(*) AS total
FROM crm.import_rows r
WHERE r.run_id = %(id)s
