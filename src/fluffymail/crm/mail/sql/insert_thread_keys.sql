INSERT INTO crm.thread_keys (user_id, key, thread_id)
SELECT %(user_id)s, k.key, k.thread_id
FROM unnest(%(keys)b::text[], %(thread_ids)b::bigint[]) AS k(key, thread_id)
ON CONFLICT (user_id, key) DO NOTHING
