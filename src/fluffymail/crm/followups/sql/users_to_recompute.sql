-- Every user with contacts: the nightly recompute runs once for each.
SELECT u.id FROM crm.users u
WHERE EXISTS (SELECT FROM crm.contacts c WHERE c.user_id = u.id)
ORDER BY u.id
