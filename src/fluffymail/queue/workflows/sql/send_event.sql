-- Deliver an event to every matching waiter (in the caller's transaction when given one).
SELECT queue.wf_send_event(%(event)s, %(data)s::jsonb)
