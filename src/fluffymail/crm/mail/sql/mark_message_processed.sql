UPDATE crm.messages SET processed_on = %(now)s WHERE id = ANY(%(ids)s::bigint[])
