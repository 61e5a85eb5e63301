-- Cancel the queued (not yet started) jobs of a queue that carry one of the singleton keys:
-- what `replace` sends anew, or what the caller no longer wants run.
UPDATE queue.job SET state = 'cancelled', completed_on = now(),
    keep_until = now() + make_interval(secs => retention_seconds)
WHERE name = %(name)s AND singleton_key = ANY(%(keys)s::text[]) AND state < 'active'
RETURNING id
