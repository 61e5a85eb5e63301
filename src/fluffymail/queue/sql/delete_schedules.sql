-- Remove one schedule (a key given) or every schedule of a queue (key NULL).
DELETE FROM queue.schedule
WHERE name = %(name)s AND (%(key)s::text IS NULL OR key = %(key)s::text)
RETURNING key
