-- Raise the priority of the queued (not yet running) jobs of `name` with one singleton key:
-- a request that a singleton rule deduplicated still moves the job it joined up the line.
-- A priority is never lowered.
UPDATE queue.job
SET priority = %(priority)s
WHERE name = %(name)s AND singleton_key = %(singleton_key)s AND state < 'active'
  AND priority < %(priority)s
RETURNING id
