-- Count newly stored messages into their threads (ids sorted by the caller: no deadlocks).
UPDATE crm.threads t
SET message_count = t.message_count + b.added,
    first_date = CASE WHEN t.first_date IS NULL OR b.first_date < t.first_date
                      THEN b.first_date ELSE t.first_date END,
    last_date = CASE WHEN t.last_date IS NULL OR b.last_date > t.last_date
                     THEN b.last_date ELSE t.last_date END
FROM jsonb_to_recordset(%(bumps)s::jsonb)
     AS b(thread_id bigint, added integer, first_date timestamptz, last_date timestamptz)
WHERE t.id = b.thread_id
