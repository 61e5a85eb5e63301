-- The run fails on a step's error: its next attempt runs that step again (a `run` step; a
-- failed invoke replays its failure: the children had their own retries).
UPDATE queue.workflow_step SET state = 'error'
WHERE run_id = %(id)s AND name = %(name)s AND state = 'failed' AND kind = 'run'
RETURNING run_id
