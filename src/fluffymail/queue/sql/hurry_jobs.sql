-- Start now the queued jobs of `name` with one singleton key that wait for a later start: a
-- request that a singleton rule deduplicated and that wants the work done now (a debounce is
-- cut short). Retries keep their backoff.
UPDATE queue.job
SET start_after = now()
WHERE name = %(name)s AND singleton_key = %(singleton_key)s AND state = 'created'
  AND start_after > now()
RETURNING id
