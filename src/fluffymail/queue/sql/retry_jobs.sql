-- Run failed jobs again now, with their retry budget renewed.
UPDATE queue.job SET state = 'retry', completed_on = NULL, keep_until = NULL, start_after = now(), retry_count = 0
WHERE id = ANY(%(ids)s::bigint[]) AND state = 'failed'
RETURNING id
