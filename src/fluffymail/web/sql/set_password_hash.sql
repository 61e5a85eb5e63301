-- Store a rehashed password (argon2 parameters changed since it was set).
UPDATE crm.users SET password_hash = %(password_hash)s WHERE id = %(id)s
