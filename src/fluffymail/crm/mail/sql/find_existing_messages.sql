SELECT dedup_key, id FROM crm.messages WHERE user_id = %(user_id)s AND dedup_key = ANY(%(keys)b::text[])
