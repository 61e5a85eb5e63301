-- Turn the user's daily digest on or off.
INSERT INTO crm.followup_settings (user_id, digest) VALUES (%(user_id)s, %(digest)s)
ON CONFLICT (user_id) DO UPDATE SET digest = EXCLUDED.digest, changed_on = now()
