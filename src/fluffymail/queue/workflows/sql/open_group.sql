-- Open a group step of a run (jobs are sent into it until it is joined); false: stale lease.
SELECT queue.wf_open_group(%(id)s, %(attempt)s, %(name)s, %(seq)s)
