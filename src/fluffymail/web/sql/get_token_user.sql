-- The user behind an unexpired bearer token; records when it was last used.
UPDATE crm.api_tokens t SET last_used_on = now()
FROM crm.users u
WHERE t.token_hash = %(token_hash)s AND u.id = t.user_id
  AND (t.expires_on IS NULL OR t.expires_on > now())
RETURNING u.id, u.email, u.name, u.is_admin
