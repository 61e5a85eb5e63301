-- Send dead letters back to the queue they came from, as fresh jobs; the dead letters complete.
WITH dead AS (
    SELECT d.id, d.source_name FROM queue.job d
    JOIN queue.queue q ON q.name = d.source_name
    WHERE d.name = %(name)s AND d.state < 'active' AND d.source_name IS NOT NULL
    ORDER BY d.id
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
), revived AS (
    INSERT INTO queue.job (name, data, priority, policy, group_key, retry_limit, retry_delay,
        retry_backoff, retry_delay_max, expire_seconds, heartbeat_seconds, retention_seconds, dead_letter)
    SELECT q.name, d.data, d.priority, q.policy,
        CASE WHEN q.grouped THEN coalesce(d.group_key, '') END, q.retry_limit, q.retry_delay,
        q.retry_backoff, q.retry_delay_max, q.expire_seconds, q.heartbeat_seconds,
        q.retention_seconds, q.dead_letter
    FROM queue.job d JOIN dead ON dead.id = d.id JOIN queue.queue q ON q.name = dead.source_name
    RETURNING id, name, group_key
), grouped AS (
    INSERT INTO queue.job_group AS g (name, group_key, queued)
    SELECT name, group_key, count(*) FROM revived WHERE group_key IS NOT NULL GROUP BY name, group_key
    ON CONFLICT (name, group_key) DO UPDATE SET queued = g.queued + EXCLUDED.queued
), done AS (
    UPDATE queue.job d SET state = 'completed', completed_on = now(),
        keep_until = now() + make_interval(secs => d.retention_seconds),
        output = jsonb_build_object('redriven_to', d.source_name)
    FROM dead WHERE d.id = dead.id
    RETURNING d.id
), wake AS (
    SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM revived) n
)
SELECT (SELECT count(*) FROM revived) AS revived, (SELECT count(*) FROM done) AS completed,
       (SELECT count(*) FROM wake) AS woken
