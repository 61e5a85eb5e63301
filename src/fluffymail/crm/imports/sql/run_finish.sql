-- The run applied: its counts, and the warnings about rows imported in part added to the
-- preview's, by row.
UPDATE crm.import_runs
SET state = 'done', finished_on = %(now)s, last_error = NULL,
    created_count = (SELECT count(*) FROM crm.import_rows
                     WHERE run_id = %(id)s AND outcome = 'created'),
    updated_count = (SELECT count(*) FROM crm.import_rows
                     WHERE run_id = %(id)s AND outcome = 'updated'),
    warnings = (SELECT coalesce(jsonb_agg(w.value ORDER BY (w.value ->> 'row')::int, w.n), '[]')
                FROM jsonb_array_elements(warnings || %(warnings)s::jsonb)
                     WITH ORDINALITY AS w (value, n))
WHERE id = %(id)s
