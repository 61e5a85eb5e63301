-- Start now the queued jobs of `name` with one singleton key that wait for a later start: a
-- request that a singleton rule deduplicated and that wants the work done now (a debounce is
-- cut short). Retries keep their backoff. Listeners are woken (on commit), as for a job sent
-- due now: a worker idle on that queue would otherwise find it only at its next poll.
WITH hurried AS (
    UPDATE queue.job
    SET start_after = now()
    WHERE name = %(name)s AND singleton_key = %(singleton_key)s AND state = 'created'
      AND start_after > now()
    RETURNING id, name
), wake AS (
    SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM hurried) n
)
SELECT id, (SELECT count(*) FROM wake) AS woken FROM hurried
