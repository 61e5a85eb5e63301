-- The title and phones the rows give become the user's values of those fields (as an edit
-- by hand: source 'you', replacing the user's earlier values of the field); a field the row
-- leaves empty is not touched.
WITH wanted AS (
    SELECT r.contact_id, 'title' AS field, r.title AS value
    FROM crm.import_rows r
    WHERE r.run_id = %(run_id)s AND r.contact_id IS NOT NULL AND r.title <> ''
    UNION
    SELECT r.contact_id, 'phone', p.value
    FROM crm.import_rows r, unnest(r.phones) AS p(value)
    WHERE r.run_id = %(run_id)s AND r.contact_id IS NOT NULL
), forgotten AS (
    DELETE FROM crm.contact_facts f
    USING crm.import_rows r
    WHERE r.run_id = %(run_id)s AND f.contact_id = r.contact_id AND f.source = 'you'
      AND ((f.field = 'title' AND r.title <> '' AND f.value <> r.title)
           OR (f.field = 'phone' AND r.phones <> '{}' AND NOT f.value = ANY(r.phones)))
)
INSERT INTO crm.contact_facts (contact_id, field, value, kind, source, confidence, observed_on)
SELECT contact_id, field, value, '', 'you', 1, %(now)s FROM wanted
ORDER BY contact_id, field, value
ON CONFLICT (contact_id, field, value) DO UPDATE
SET source = 'you', kind = '', confidence = 1, source_message_id = NULL,
    observed_on = excluded.observed_on
WHERE crm.contact_facts.source <> 'you'  -- the user's value already: no write, no event
