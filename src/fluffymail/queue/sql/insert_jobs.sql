-- Insert jobs (one or thousands) into a queue, inheriting its defaults; duplicates are skipped.
-- Wakes listening workers (delivered on commit) when a job is available at once.
WITH q AS (
    SELECT * FROM queue.queue WHERE name = %(name)s
), ins AS (
    INSERT INTO queue.job (name, data, priority, start_after, singleton_key, singleton_on, group_key,
        policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds,
        heartbeat_seconds, retention_seconds, dead_letter)
    SELECT q.name, j.data, coalesce(j.priority, 0),
        coalesce(j.start_at, now() + make_interval(secs => coalesce(j.start_in, 0))),
        j.singleton_key,
        CASE WHEN j.singleton_seconds > 0 THEN
            to_timestamp(floor(extract(epoch FROM now()) / j.singleton_seconds) * j.singleton_seconds)
        END,
        CASE WHEN q.grouped THEN coalesce(j.group_key, '') ELSE j.group_key END, q.policy,
        coalesce(j.retry_limit, q.retry_limit), coalesce(j.retry_delay, q.retry_delay),
        coalesce(j.retry_backoff, q.retry_backoff), coalesce(j.retry_delay_max, q.retry_delay_max),
        coalesce(j.expire_seconds, q.expire_seconds), coalesce(j.heartbeat_seconds, q.heartbeat_seconds),
        coalesce(j.retention_seconds, q.retention_seconds), coalesce(j.dead_letter, q.dead_letter)
    FROM q, jsonb_to_recordset(%(jobs)s::jsonb) AS j (data jsonb, priority integer, start_at timestamptz,
        start_in double precision, singleton_key text, singleton_seconds integer, group_key text,
        retry_limit integer, retry_delay integer, retry_backoff boolean, retry_delay_max integer,
        expire_seconds integer, heartbeat_seconds integer, retention_seconds integer, dead_letter text)
    ON CONFLICT DO NOTHING
    RETURNING id, start_after, group_key
), grouped AS (
    INSERT INTO queue.job_group AS g (name, group_key, queued)
    SELECT %(name)s, group_key, count(*) FROM ins, q WHERE q.grouped AND group_key IS NOT NULL GROUP BY group_key
    ON CONFLICT (name, group_key) DO UPDATE SET queued = g.queued + EXCLUDED.queued
), wake AS (
    SELECT pg_notify('fluffymail_queue', %(name)s)
    WHERE EXISTS (SELECT 1 FROM ins WHERE start_after <= now())
)
SELECT EXISTS (SELECT 1 FROM q) AS queue_exists,
       coalesce((SELECT array_agg(id ORDER BY id) FROM ins), '{}') AS ids,
       (SELECT count(*) FROM wake) AS woken
