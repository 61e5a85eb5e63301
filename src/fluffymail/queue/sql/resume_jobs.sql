-- Put cancelled jobs back in the queue.
UPDATE queue.job SET state = 'created', completed_on = NULL, keep_until = NULL, start_after = now()
WHERE id = ANY(%(ids)s::bigint[]) AND state = 'cancelled'
RETURNING id
