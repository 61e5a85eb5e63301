-- Hold this worker's liveness lock for as long as the session lives (rescue_jobs.sql looks for
-- it); false when an earlier session of the same worker still holds it.
SELECT pg_try_advisory_lock(hashtext('fluffymail.queue.worker'), hashtext(%(worker)s))
