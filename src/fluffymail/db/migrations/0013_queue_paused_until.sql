-- A queue can be paused until a time as well as indefinitely: `Snooze(seconds, pause_queue=True)`
-- from a handler whose upstream rate limit is shared by every job of the queue (one API key for
-- all users) stops every worker from claiming its jobs until then, instead of each group or
-- each job finding the limit by itself.
ALTER TABLE queue.queue ADD COLUMN paused_until timestamptz;
