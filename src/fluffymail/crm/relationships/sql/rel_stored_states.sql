-- Every stored state of a user, for rescoring (read through a server-side cursor).
SELECT contact_id, state FROM crm.relationships WHERE user_id = %(user_id)s ORDER BY contact_id
