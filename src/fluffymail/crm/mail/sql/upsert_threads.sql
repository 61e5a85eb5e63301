-- One thread per key (a concurrent sync may have just created it: then its id is returned).
INSERT INTO crm.threads (user_id, key, subject)
SELECT %(user_id)s, t.key, t.subject
FROM jsonb_to_recordset(%(threads)s::jsonb) AS t(key text, subject text)
ON CONFLICT (user_id, key) DO UPDATE SET key = EXCLUDED.key
RETURNING id, key
