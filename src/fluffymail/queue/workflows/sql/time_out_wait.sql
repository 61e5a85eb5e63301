-- An event wait whose timeout passed ends with no event, unless one arrived first.
WITH timed_out AS (
    UPDATE queue.workflow_step SET state = 'completed', output = NULL, finished_on = now()
    WHERE run_id = %(id)s AND name = %(name)s AND state = 'waiting'
    RETURNING output
)
SELECT true, NULL::jsonb FROM timed_out
UNION ALL
SELECT false, output FROM queue.workflow_step
WHERE run_id = %(id)s AND name = %(name)s AND NOT EXISTS (SELECT 1 FROM timed_out)
