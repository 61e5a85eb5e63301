-- The user's messages are extracted: they leave crm.message_pending.
DELETE FROM crm.message_pending
WHERE user_id = %(user_id)s AND message_id = ANY(%(ids)s::bigint[])
