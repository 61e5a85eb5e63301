-- Count jobs just inserted (in the caller's transaction) in an open group of their run.
SELECT queue.wf_add_children(%(run_id)s, %(name)s, %(ids)s::bigint[])
