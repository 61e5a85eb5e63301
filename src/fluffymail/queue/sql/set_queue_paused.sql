-- Pause or resume a queue for every worker (claims skip paused queues).
UPDATE queue.queue SET paused = %(paused)s, updated_on = now() WHERE name = %(name)s RETURNING name
