-- The account and its password hash, for checking a login.
SELECT id, email, name, is_admin, password_hash FROM crm.users WHERE email = %(email)s
