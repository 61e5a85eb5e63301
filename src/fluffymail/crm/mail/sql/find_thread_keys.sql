SELECT key, thread_id FROM crm.thread_keys WHERE user_id = %(user_id)s AND key = ANY(%(keys)b::text[])
