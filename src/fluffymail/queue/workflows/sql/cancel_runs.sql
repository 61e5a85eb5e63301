-- Cancel runs with their children (recursively); returns the ids cancelled.
SELECT unnest(queue.wf_cancel(%(ids)s::bigint[]))
