-- A new import run of the user's, previewed: its mapping, counts, the rows left out and the
-- warnings known from the file (a damaged address kept).
INSERT INTO crm.import_runs (user_id, workspace_id, kind, format, filename, mapping,
                             total_rows, good_rows, problems, warnings, created_on)
VALUES (%(user_id)s, %(workspace_id)s, %(kind)s, %(format)s, %(filename)s, %(mapping)s::jsonb,
        %(total_rows)s, %(good_rows)s, %(problems)s::jsonb, %(warnings)s::jsonb, %(now)s)
RETURNING id
