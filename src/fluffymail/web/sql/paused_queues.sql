-- Queues an operator paused (read-only; the queue's public API does not expose the flag yet).
SELECT name FROM queue.queue WHERE paused
