-- Addresses that are no longer the user's (never the account's own address).
DELETE FROM crm.user_aliases a
USING crm.users u
WHERE a.user_id = %(user_id)s AND u.id = a.user_id AND a.address <> u.email
  AND a.address = ANY(%(addresses)s::text[])
RETURNING a.address
