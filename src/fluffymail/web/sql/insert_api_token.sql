-- A named API token of a user, valid for `seconds` (NULL: until revoked); the caller shows the
-- token once, the table keeps its hash.
INSERT INTO crm.api_tokens (user_id, name, token_hash, expires_on)
VALUES (%(user_id)s, %(name)s, %(token_hash)s,
        now() + make_interval(secs => %(seconds)s::double precision))
ON CONFLICT (user_id, name) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_on = now(),
                                          last_used_on = NULL, expires_on = EXCLUDED.expires_on
RETURNING id
