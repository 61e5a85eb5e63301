-- An event wait whose timeout passed ends with no event, unless one arrived first.
UPDATE queue.workflow_step SET state = 'completed', output = NULL, finished_on = now()
WHERE run_id = %(id)s AND name = %(name)s AND state = 'waiting'
RETURNING run_id
