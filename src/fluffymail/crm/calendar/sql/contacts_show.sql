-- Attendees the connection's policy lets become contacts: shown (as a message you wrote to
-- them would), named from the invitation when they have no name yet. Each contact updated,
-- with whether this call showed it.
WITH names AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS n(id bigint, name text)
), old AS (
    SELECT c.id, c.created FROM crm.contacts c
    WHERE c.id IN (SELECT id FROM names) ORDER BY c.id FOR NO KEY UPDATE
)
UPDATE crm.contacts c
SET created = true,
    visible_on = CASE WHEN c.created THEN c.visible_on ELSE %(now)s END,
    name = CASE WHEN c.name = '' AND c.name_source = 'mail' THEN n.name ELSE c.name END,
    updated_on = %(now)s
FROM names n JOIN old o ON o.id = n.id
WHERE c.id = n.id AND (NOT c.created OR (c.name = '' AND n.name <> ''))
RETURNING c.id, NOT o.created AS shown
