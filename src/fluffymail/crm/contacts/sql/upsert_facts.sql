-- Observed facts; seeing a value again keeps its newest observation and best confidence.
INSERT INTO crm.contact_facts
    (contact_id, field, value, kind, source, source_message_id, confidence, observed_on)
SELECT DISTINCT ON (f.field, f.value)  -- one row per value: its newest observation
       %(contact_id)s, f.field, f.value, f.kind, f.source, f.source_message_id,
       max(f.confidence) OVER (PARTITION BY f.field, f.value), f.observed_on
FROM jsonb_to_recordset(%(facts)s::jsonb) AS f(
    field text, value text, kind text, source text, source_message_id bigint,
    confidence real, observed_on timestamptz)
ORDER BY f.field, f.value, f.observed_on DESC
ON CONFLICT (contact_id, field, value) DO UPDATE
SET kind = CASE WHEN excluded.observed_on >= crm.contact_facts.observed_on
                THEN excluded.kind ELSE crm.contact_facts.kind END,
    source = CASE WHEN crm.contact_facts.source = 'you' THEN 'you'  -- the user's value stays theirs
                  WHEN excluded.observed_on >= crm.contact_facts.observed_on
                  THEN excluded.source ELSE crm.contact_facts.source END,
    source_message_id = CASE WHEN excluded.observed_on >= crm.contact_facts.observed_on
                             THEN excluded.source_message_id
                             ELSE crm.contact_facts.source_message_id END,
    confidence = greatest(crm.contact_facts.confidence, excluded.confidence),
    observed_on = greatest(crm.contact_facts.observed_on, excluded.observed_on)
