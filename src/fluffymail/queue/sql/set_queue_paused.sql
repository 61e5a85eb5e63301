-- Pause or resume a queue for every worker (claims skip paused queues); resuming also lifts a
-- pause until a time (`pause_queue_until`).
UPDATE queue.queue
SET paused = %(paused)s, paused_until = CASE WHEN %(paused)s THEN paused_until END, updated_on = now()
WHERE name = %(name)s
RETURNING name
