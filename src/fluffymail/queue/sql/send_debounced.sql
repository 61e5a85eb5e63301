-- Send debounced jobs of one queue, one per distinct key, in one statement (debounce.py): each
-- key's queued job absorbs its send (its start pushed to now() + window, capped at its
-- created_on + max_wait, its data replaced, kept or merged, its priority never lowered); with
-- none queued, a new job starts the window. Safe under concurrent senders: the unique index
-- job_singleton_queued arbitrates (a job claimed meanwhile no longer matches it, so the send
-- makes a new job). Only 'standard' queues have that index: for others nothing is inserted.
-- The keys must be distinct (the caller folds duplicates). One row per key sent (the job, and
-- whether it is new), or one row of NULLs but the policy when nothing was.
WITH q AS (
    SELECT * FROM queue.queue WHERE name = %(name)s
), src AS (
    SELECT * FROM unnest(%(keys)s::text[], %(datas)s::jsonb[]) AS s (key, data)
), ins AS (
    INSERT INTO queue.job AS j (name, data, priority, start_after, singleton_key, group_key,
        policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds,
        heartbeat_seconds, retention_seconds, dead_letter)
    SELECT q.name, s.data, coalesce(o.priority, 0),
        now() + make_interval(secs => %(window)s::float8), s.key,
        CASE WHEN q.grouped THEN coalesce(o.group_key, '') ELSE o.group_key END, q.policy,
        coalesce(o.retry_limit, q.retry_limit), coalesce(o.retry_delay, q.retry_delay),
        coalesce(o.retry_backoff, q.retry_backoff), coalesce(o.retry_delay_max, q.retry_delay_max),
        coalesce(o.expire_seconds, q.expire_seconds), coalesce(o.heartbeat_seconds, q.heartbeat_seconds),
        coalesce(o.retention_seconds, q.retention_seconds), coalesce(o.dead_letter, q.dead_letter)
    FROM q, src s, jsonb_to_record(%(options)s::jsonb) AS o (priority integer, group_key text,
        retry_limit integer, retry_delay integer, retry_backoff boolean, retry_delay_max integer,
        expire_seconds integer, heartbeat_seconds integer, retention_seconds integer, dead_letter text)
    WHERE q.policy = 'standard'
    ON CONFLICT (name, singleton_key)
        WHERE state < 'active' AND singleton_key IS NOT NULL AND singleton_on IS NULL
          AND policy = 'standard'
    DO UPDATE SET
        -- least() skips a NULL cap; a job waiting to retry keeps at least its backoff
        start_after = CASE WHEN j.state = 'retry' THEN greatest(j.start_after, least(
                EXCLUDED.start_after, j.created_on + make_interval(secs => %(max_wait)s::float8)))
            ELSE least(EXCLUDED.start_after, j.created_on + make_interval(secs => %(max_wait)s::float8))
        END,
        data = CASE %(keep)s::text
            WHEN 'first' THEN j.data
            WHEN 'merge' THEN CASE WHEN jsonb_typeof(j.data) = 'object'
                                    AND jsonb_typeof(EXCLUDED.data) = 'object'
                               THEN j.data || EXCLUDED.data ELSE EXCLUDED.data END
            ELSE EXCLUDED.data
        END,
        priority = greatest(j.priority, EXCLUDED.priority)
    RETURNING j.id, j.start_after, j.group_key, (j.xmax = 0) AS inserted
), grouped AS (
    INSERT INTO queue.job_group AS g (name, group_key, queued)
    SELECT %(name)s, group_key, count(*) FROM ins, q
    WHERE q.grouped AND ins.inserted AND group_key IS NOT NULL GROUP BY group_key
    ON CONFLICT (name, group_key) DO UPDATE SET queued = g.queued + EXCLUDED.queued
), wake AS (
    SELECT pg_notify('fluffymail_queue', %(name)s)
    WHERE EXISTS (SELECT 1 FROM ins WHERE start_after <= now())
)
SELECT (SELECT policy FROM q) AS policy, ins.id, ins.inserted, ins.start_after,
       (SELECT count(*) FROM wake) AS woken
FROM (SELECT 1) AS one LEFT JOIN ins ON true
