-- The run applied: its counts and the warnings about rows imported in part.
UPDATE crm.import_runs
SET state = 'done', finished_on = %(now)s, last_error = NULL,
    created_count = (SELECT count(*) FROM crm.import_rows
                     WHERE run_id = %(id)s AND outcome = 'created'),
    updated_count = (SELECT count(*) FROM crm.import_rows
                     WHERE run_id = %(id)s AND outcome = 'updated'),
    warnings = %(warnings)s::jsonb
WHERE id = %(id)s
