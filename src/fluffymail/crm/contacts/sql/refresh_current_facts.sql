-- One current value per (field, kind): the newest observation wins (a newer signature
-- updates an older one). Phones of unknown kind may be several, so all of them stay current.
-- A value the user set (source 'you', possibly empty: cleared) is the field's only current one.
UPDATE crm.contact_facts f
SET is_current = r.current
FROM (
    SELECT id, CASE WHEN bool_or(source = 'you') OVER (PARTITION BY field)
                    THEN source = 'you'
                    ELSE (field = 'phone' AND kind = 'unknown')
                         OR row_number() OVER (PARTITION BY field, kind
                                               ORDER BY observed_on DESC, confidence DESC, id DESC) = 1
               END AS current
    FROM crm.contact_facts WHERE contact_id = %(contact_id)s
) r
WHERE f.id = r.id AND f.is_current IS DISTINCT FROM r.current
