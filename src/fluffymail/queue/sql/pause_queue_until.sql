-- Pause a queue for every worker until now() + %(seconds)s (a later pause already set stays).
UPDATE queue.queue
SET paused_until = greatest(paused_until, now() + make_interval(secs => %(seconds)s)), updated_on = now()
WHERE name = %(name)s
RETURNING name
