-- A contact for each row whose address the user has none with: made as by hand (shown at
-- once and kept whatever the creation policy), its name and a company the file names set
-- by the user ('you'), its address's defect noted as extraction notes it (a damaged address
-- is kept as written), and the row marked as created.
WITH made AS (
    INSERT INTO crm.contacts (user_id, primary_address, name, first_name, last_name,
                              name_quality, name_source, company_id, company_source, created,
                              created_by_hand, kept_on, visible_on, created_on, updated_on)
    SELECT %(user_id)s, r.address, r.name, r.first_name, r.last_name, r.name_quality,
           CASE WHEN r.name = '' THEN 'mail' ELSE 'you' END, r.company_id,
           CASE WHEN r.company_given AND r.company_id IS NOT NULL THEN 'you' ELSE 'mail' END,
           true, true, %(now)s, %(now)s, %(now)s, %(now)s
    FROM crm.import_rows r
    WHERE r.run_id = %(run_id)s AND r.contact_id IS NULL
    ORDER BY r.row_no
    ON CONFLICT (user_id, primary_address) DO NOTHING
    RETURNING id, primary_address
), addressed AS (
    INSERT INTO crm.contact_addresses (user_id, address, contact_id, defect, created_on)
    SELECT %(user_id)s, made.primary_address, made.id, r.address_defect, %(now)s
    FROM made
    JOIN crm.import_rows r ON r.run_id = %(run_id)s AND r.address = made.primary_address
    ON CONFLICT (user_id, address) DO NOTHING
)
UPDATE crm.import_rows r
SET contact_id = made.id, outcome = 'created'
FROM made
WHERE r.run_id = %(run_id)s AND r.address = made.primary_address
