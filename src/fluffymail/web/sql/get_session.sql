-- The unexpired session for a cookie token with its user; touching it keeps it warm.
UPDATE crm.sessions s SET last_seen_on = now()
FROM crm.users u
WHERE s.token_hash = %(token_hash)s AND s.expires_on > now() AND u.id = s.user_id
RETURNING u.id, u.email, u.name, u.is_admin, s.csrf_token
