-- A named API token of a user; the caller shows the token once, the table keeps its hash.
INSERT INTO crm.api_tokens (user_id, name, token_hash)
VALUES (%(user_id)s, %(name)s, %(token_hash)s)
ON CONFLICT (user_id, name) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_on = now(),
                                          last_used_on = NULL
RETURNING id
