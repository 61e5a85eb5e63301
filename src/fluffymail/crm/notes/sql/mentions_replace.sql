-- Link a note to exactly these contacts (its mentions after an edit).
WITH gone AS (
    DELETE FROM crm.note_mentions
    WHERE note_id = %(note_id)s AND contact_id <> ALL(%(contact_ids)s::bigint[])
)
INSERT INTO crm.note_mentions (note_id, contact_id)
SELECT %(note_id)s, unnest(%(contact_ids)s::bigint[])
ON CONFLICT DO NOTHING
