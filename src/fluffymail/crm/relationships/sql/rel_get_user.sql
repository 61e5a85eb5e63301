-- A user by address (the CLI's --user).
SELECT id, email, name FROM crm.users WHERE email = lower(%(email)s)
