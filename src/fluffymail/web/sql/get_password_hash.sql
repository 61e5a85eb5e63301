-- A user's password hash, for checking the current password before changing it.
SELECT password_hash FROM crm.users WHERE id = %(id)s
