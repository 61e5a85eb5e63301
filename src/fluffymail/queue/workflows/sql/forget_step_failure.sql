-- The run fails on a step's error: its next attempt runs that step again.
UPDATE queue.workflow_step SET state = 'error'
WHERE run_id = %(id)s AND name = %(name)s AND state = 'failed'
RETURNING run_id
