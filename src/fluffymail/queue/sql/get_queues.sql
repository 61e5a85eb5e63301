-- Every queue with its defaults.
SELECT name, policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds,
    heartbeat_seconds, retention_seconds, dead_letter, fair, group_concurrency, group_rate_limit,
    group_rate_period, paused, CASE WHEN paused_until > now() THEN paused_until END AS paused_until
FROM queue.queue ORDER BY name
