-- Register this worker process or record that it is alive.
INSERT INTO queue.worker (id, host, pid, queues) VALUES (%(id)s, %(host)s, %(pid)s, %(queues)s)
ON CONFLICT (id) DO UPDATE SET queues = EXCLUDED.queues, heartbeat_on = now()
RETURNING id
