UPDATE crm.connections SET contact_policy = %(policy)s WHERE id = %(id)s
