-- Revoke an API token by id: the user's own (user_id given) or anyone's (the operator's CLI).
DELETE FROM crm.api_tokens
WHERE id = %(id)s AND (%(user_id)s::bigint IS NULL OR user_id = %(user_id)s::bigint)
RETURNING id, name
