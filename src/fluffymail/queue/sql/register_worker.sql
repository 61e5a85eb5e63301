-- Register this worker process or record that it is alive.
INSERT INTO queue.worker (id, host, pid, queues, locked)
VALUES (%(id)s, %(host)s, %(pid)s, %(queues)s, %(locked)s)
ON CONFLICT (id) DO UPDATE SET queues = EXCLUDED.queues, locked = EXCLUDED.locked, heartbeat_on = now()
RETURNING id
