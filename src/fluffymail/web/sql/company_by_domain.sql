-- One of the user's companies by its domain (a saved view's `company:` filter), following a
-- merge to the company it went into.
SELECT coalesce(merged_into_id, id) AS id
FROM crm.companies
WHERE user_id = %(user_id)s AND domain = %(domain)s
