-- Jobs matching an operator's filter (any filter may be NULL), newest first.
SELECT id, name, state, data, priority, attempt, retry_count, retry_limit, expire_seconds,
       heartbeat_seconds, singleton_key, group_key, created_on, started_on, completed_on,
       start_after, output, dead_letter, source_name, source_id, worker
FROM queue.job
WHERE (%(name)s::text IS NULL OR name = %(name)s::text)
  AND (%(states)s::queue.job_state[] IS NULL OR state = ANY(%(states)s::queue.job_state[]))
  AND (%(group_key)s::text IS NULL OR group_key = %(group_key)s::text)
  AND (%(since)s::timestamptz IS NULL OR created_on >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR created_on < %(until)s::timestamptz)
ORDER BY id DESC
LIMIT %(limit)s
