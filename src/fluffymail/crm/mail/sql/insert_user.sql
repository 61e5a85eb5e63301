-- Create the user unless it exists; returns no row when it already did.
INSERT INTO crm.users (email, name)
VALUES (%(email)s, %(name)s)
ON CONFLICT (email) DO NOTHING
RETURNING id, email, name, created_on
