-- Complete a child run's attempt and count it in its parent's fan-in, in one statement.
SELECT queue.wf_complete(%(id)s, %(attempt)s, %(output)s::jsonb)
