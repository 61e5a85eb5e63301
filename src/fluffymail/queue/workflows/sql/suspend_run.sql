-- Suspend a running run on a step (sleep, event wait, children): its job gives its slot back.
SELECT queue.wf_suspend(%(id)s, %(attempt)s, %(name)s, %(seq)s, %(kind)s, %(wake_at)s,
    %(event)s, %(match)s::jsonb, %(children)s::bigint[])
