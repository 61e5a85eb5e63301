-- Record that these attempts are still running; returns the ones whose lease is still valid.
UPDATE queue.job j SET heartbeat_on = now()
FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[]) AS h (id, attempt)
WHERE j.id = h.id AND j.attempt = h.attempt AND j.state = 'active'
RETURNING j.id
