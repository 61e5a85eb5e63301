-- Cancel queued or running jobs; a running attempt loses its lease and its result is refused.
UPDATE queue.job SET state = 'cancelled', completed_on = now()
WHERE id = ANY(%(ids)s::bigint[]) AND state <= 'active'
RETURNING id
