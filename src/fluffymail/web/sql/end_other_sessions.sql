-- The password changed: end every session of the user but `keep` (the one that changed it;
-- NULL ends them all). Their pending Gmail sign-ins go with them.
DELETE FROM crm.sessions
WHERE user_id = %(user_id)s AND token_hash IS DISTINCT FROM %(keep)s::bytea
