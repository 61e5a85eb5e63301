-- The stored incremental states of some contacts of a user (to fold new mail into).
SELECT contact_id, state
FROM crm.relationships
WHERE user_id = %(user_id)s AND contact_id = ANY(%(contact_ids)s::bigint[])
