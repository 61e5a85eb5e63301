UPDATE crm.users SET relationships_analyzed_on = %(now)s WHERE id = %(id)s
