-- The user's value of a field ('' = cleared); it wins over every extracted one of that field
-- (refresh_current_facts.sql) and later extraction keeps its source (upsert_facts.sql).
INSERT INTO crm.contact_facts
    (contact_id, field, value, kind, source, confidence, observed_on)
VALUES (%(contact_id)s, %(field)s, %(value)s, '', 'you', 1, %(now)s)
ON CONFLICT (contact_id, field, value) DO UPDATE
SET source = 'you', kind = '', confidence = 1, source_message_id = NULL,
    observed_on = excluded.observed_on
