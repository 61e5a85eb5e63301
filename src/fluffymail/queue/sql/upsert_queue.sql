-- Create a queue or update its defaults (jobs already sent keep theirs). A queue that becomes
-- grouped (fair, or with group limits) adopts the jobs still waiting or running: a job sent
-- without a key joins the '' key, and every key's counts are taken from its jobs, so the fair
-- claim, which serves keys from queue.job_group, sees them all.
WITH before AS (
    SELECT grouped FROM queue.queue WHERE name = %(name)s  -- the snapshot: the value before
), up AS (
    INSERT INTO queue.queue (name, policy, retry_limit, retry_delay, retry_backoff, retry_delay_max,
        expire_seconds, heartbeat_seconds, retention_seconds, dead_letter, fair, group_concurrency,
        group_rate_limit, group_rate_period)
    VALUES (%(name)s, %(policy)s, %(retry_limit)s, %(retry_delay)s, %(retry_backoff)s,
        %(retry_delay_max)s, %(expire_seconds)s, %(heartbeat_seconds)s, %(retention_seconds)s,
        %(dead_letter)s, %(fair)s, %(group_concurrency)s, %(group_rate_limit)s, %(group_rate_period)s)
    ON CONFLICT (name) DO UPDATE SET policy = EXCLUDED.policy, retry_limit = EXCLUDED.retry_limit,
        retry_delay = EXCLUDED.retry_delay, retry_backoff = EXCLUDED.retry_backoff,
        retry_delay_max = EXCLUDED.retry_delay_max, expire_seconds = EXCLUDED.expire_seconds,
        heartbeat_seconds = EXCLUDED.heartbeat_seconds, retention_seconds = EXCLUDED.retention_seconds,
        dead_letter = EXCLUDED.dead_letter, fair = EXCLUDED.fair,
        group_concurrency = EXCLUDED.group_concurrency, group_rate_limit = EXCLUDED.group_rate_limit,
        group_rate_period = EXCLUDED.group_rate_period, updated_on = now()
    RETURNING name, grouped
), adopting AS (
    SELECT up.name FROM up WHERE up.grouped AND NOT coalesce((SELECT grouped FROM before), true)
), adopted AS (
    UPDATE queue.job j SET group_key = ''
    FROM adopting a
    WHERE j.name = a.name AND j.group_key IS NULL AND j.state <= 'active'
), counts AS (
    SELECT a.name, coalesce(j.group_key, '') AS group_key,
           count(*) FILTER (WHERE j.state < 'active') AS queued,
           count(*) FILTER (WHERE j.state = 'active') AS running
    FROM adopting a JOIN queue.job j ON j.name = a.name AND j.state <= 'active'
    GROUP BY 1, 2
), recounted AS (
    INSERT INTO queue.job_group AS g (name, group_key, queued, running)
    SELECT a.name, k.group_key, coalesce(c.queued, 0), coalesce(c.running, 0)
    FROM adopting a
    CROSS JOIN LATERAL (
        SELECT group_key FROM queue.job_group WHERE name = a.name
        UNION SELECT group_key FROM counts WHERE name = a.name
    ) k
    LEFT JOIN counts c ON c.name = a.name AND c.group_key = k.group_key
    ON CONFLICT (name, group_key) DO UPDATE SET queued = EXCLUDED.queued, running = EXCLUDED.running
)
SELECT name FROM up
