-- One thread per key, counting the batch's messages in it at once (a concurrent sync may have
-- just created it: then its counts grow and its id is returned).
INSERT INTO crm.threads (user_id, key, subject, message_count, first_date, last_date)
SELECT %(user_id)s, t.key, t.subject, t.added, t.first_date, t.last_date
FROM jsonb_to_recordset(%(threads)s::jsonb)
     AS t(key text, subject text, added integer, first_date timestamptz, last_date timestamptz)
ON CONFLICT (user_id, key) DO UPDATE
SET message_count = crm.threads.message_count + EXCLUDED.message_count,
    first_date = LEAST(crm.threads.first_date, EXCLUDED.first_date),
    last_date = GREATEST(crm.threads.last_date, EXCLUDED.last_date)
RETURNING id, key
