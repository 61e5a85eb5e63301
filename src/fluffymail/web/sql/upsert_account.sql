-- Create a user with a password, or set the password and admin flag of an existing one
-- (a user made by `fluffymail import` gets a login this way).
INSERT INTO crm.users (email, name, password_hash, is_admin)
VALUES (%(email)s, %(name)s, %(password_hash)s, %(is_admin)s)
ON CONFLICT (email) DO UPDATE
    SET password_hash = EXCLUDED.password_hash,
        is_admin = EXCLUDED.is_admin,
        name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE crm.users.name END
RETURNING id, email, name, is_admin, (xmax = 0) AS created
