-- Send one job (the hot path of send()); insert_jobs.sql is the bulk form of the same rules.
WITH q AS (
    SELECT * FROM queue.queue WHERE name = %(name)s
), ins AS (
    INSERT INTO queue.job (name, data, priority, start_after, singleton_key, singleton_on, group_key,
        policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds,
        heartbeat_seconds, retention_seconds, dead_letter)
    SELECT q.name, %(data)s::jsonb, coalesce(%(priority)s::integer, 0),
        coalesce(%(start_at)s::timestamptz, now() + make_interval(secs => coalesce(%(start_in)s::float8, 0))),
        %(singleton_key)s::text,
        CASE WHEN %(singleton_seconds)s::integer > 0 THEN
            to_timestamp(floor(extract(epoch FROM now()) / %(singleton_seconds)s::integer) * %(singleton_seconds)s::integer)
        END,
        CASE WHEN q.grouped THEN coalesce(%(group_key)s::text, '') ELSE %(group_key)s::text END, q.policy,
        coalesce(%(retry_limit)s::integer, q.retry_limit), coalesce(%(retry_delay)s::integer, q.retry_delay),
        coalesce(%(retry_backoff)s::boolean, q.retry_backoff), coalesce(%(retry_delay_max)s::integer, q.retry_delay_max),
        coalesce(%(expire_seconds)s::integer, q.expire_seconds), coalesce(%(heartbeat_seconds)s::integer, q.heartbeat_seconds),
        coalesce(%(retention_seconds)s::integer, q.retention_seconds), coalesce(%(dead_letter)s::text, q.dead_letter)
    FROM q
    ON CONFLICT DO NOTHING
    RETURNING id, start_after, group_key
), grouped AS (
    INSERT INTO queue.job_group AS g (name, group_key, queued)
    SELECT %(name)s, group_key, 1 FROM ins, q WHERE q.grouped AND group_key IS NOT NULL
    ON CONFLICT (name, group_key) DO UPDATE SET queued = g.queued + 1
), wake AS (
    SELECT pg_notify('fluffymail_queue', %(name)s) FROM ins WHERE start_after <= now()
)
SELECT EXISTS (SELECT 1 FROM q) AS queue_exists, (SELECT id FROM ins) AS id, (SELECT count(*) FROM wake) AS woken
