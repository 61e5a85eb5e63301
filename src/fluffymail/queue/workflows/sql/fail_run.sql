-- Fail a run's attempt (retried per the job's options unless final); a child failed for good
-- counts in its parent's fan-in.
SELECT queue.wf_fail(%(id)s, %(attempt)s, %(error)s::jsonb, %(final)s)
