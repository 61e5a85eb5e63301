-- A new login session; the cookie holds the token, the table only its hash.
INSERT INTO crm.sessions (token_hash, user_id, csrf_token, expires_on)
VALUES (%(token_hash)s, %(user_id)s, %(csrf_token)s, now() + make_interval(secs => %(seconds)s))
