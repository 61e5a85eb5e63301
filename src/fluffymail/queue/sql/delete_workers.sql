-- Forget one worker (graceful stop) or every worker silent for `stale_seconds`.
DELETE FROM queue.worker
WHERE id = %(id)s OR heartbeat_on < now() - make_interval(secs => %(stale_seconds)s)
RETURNING id
