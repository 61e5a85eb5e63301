-- A user's API tokens (never the tokens themselves): names, when made, last used and expiry.
SELECT id, name, created_on, last_used_on, expires_on, expires_on <= now() AS expired
FROM crm.api_tokens
WHERE user_id = %(user_id)s
ORDER BY created_on DESC, id DESC
