-- Log out: forget the session (and any that expired meanwhile).
DELETE FROM crm.sessions WHERE token_hash = %(token_hash)s OR expires_on < now()
