-- One job by id, with everything a caller may want to see.
SELECT id, name, state, data, priority, attempt, retry_count, retry_limit, expire_seconds,
       heartbeat_seconds, singleton_key, group_key, created_on, started_on, completed_on,
       start_after, output, dead_letter, source_name, source_id, worker
FROM queue.job WHERE id = %(id)s
