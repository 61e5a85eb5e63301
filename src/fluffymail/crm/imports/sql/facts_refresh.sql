-- The current facts of the rows' contacts, as crm/contacts/sql/refresh_current_facts.sql
-- decides them for one contact: a value the user set is the field's only current one.
UPDATE crm.contact_facts f
SET is_current = r.current
FROM (
    SELECT id, CASE WHEN bool_or(source = 'you') OVER (PARTITION BY contact_id, field)
                    THEN source = 'you'
                    ELSE (field = 'phone' AND kind = 'unknown')
                         OR row_number() OVER (PARTITION BY contact_id, field, kind
                                               ORDER BY observed_on DESC, confidence DESC, id DESC) = 1
               END AS current
    FROM crm.contact_facts
    WHERE contact_id IN (SELECT contact_id FROM crm.import_rows
                         WHERE run_id = %(run_id)s AND (title <> '' OR phones <> '{}'))
) r
WHERE f.id = r.id AND f.is_current IS DISTINCT FROM r.current
