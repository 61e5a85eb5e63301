-- A contact the user makes by hand: shown at once, and kept shown when it has no mail.
WITH made AS (
    INSERT INTO crm.contacts (user_id, primary_address, name, first_name, last_name,
                              name_quality, name_source, company_id, company_source,
                              created, created_by_hand, visible_on, created_on, updated_on)
    VALUES (%(user_id)s, %(address)s, %(name)s, %(first_name)s, %(last_name)s, %(quality)s,
            CASE WHEN %(name)s = '' THEN 'mail' ELSE 'you' END, %(company_id)s::bigint,
            CASE WHEN %(company_id)s::bigint IS NULL THEN 'mail' ELSE 'you' END,
            true, true, %(now)s, %(now)s, %(now)s)
    ON CONFLICT (user_id, primary_address) DO NOTHING
    RETURNING id, primary_address
)
INSERT INTO crm.contact_addresses (user_id, address, contact_id, created_on)
SELECT %(user_id)s, primary_address, id, %(now)s FROM made
ON CONFLICT (user_id, address) DO NOTHING
RETURNING contact_id
