-- A step's stored result (a wait that an event completed just before its timeout).
SELECT output FROM queue.workflow_step WHERE run_id = %(id)s AND name = %(name)s
