SELECT id, user_id, merged_into_id, created, suppressed_reason
FROM crm.contacts WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR UPDATE
