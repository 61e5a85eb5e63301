-- An import run locked for the import job (or for queueing it).
SELECT id, user_id, workspace_id, kind, filename, state
FROM crm.import_runs
WHERE id = %(id)s AND user_id = %(user_id)s
FOR UPDATE
