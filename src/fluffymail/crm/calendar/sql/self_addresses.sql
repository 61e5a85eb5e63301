-- The user's own addresses: the account's and every alias.
SELECT email FROM crm.users WHERE id = %(user_id)s
UNION
SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
