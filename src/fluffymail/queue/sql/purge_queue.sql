-- Delete every job of a queue that is not running.
DELETE FROM queue.job WHERE name = %(name)s AND state <> 'active' RETURNING id
