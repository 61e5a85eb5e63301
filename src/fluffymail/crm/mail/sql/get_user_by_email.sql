SELECT id, email, name, created_on FROM crm.users WHERE email = %(email)s
