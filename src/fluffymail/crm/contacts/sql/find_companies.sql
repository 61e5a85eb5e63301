SELECT id, domain FROM crm.companies WHERE user_id = %(user_id)s AND domain = ANY(%(domains)s::text[])
