-- Close an open group: 'ready' (all its jobs finished), 'waiting', or NULL (not open, lease lost).
SELECT queue.wf_close_group(%(id)s, %(attempt)s, %(name)s)
