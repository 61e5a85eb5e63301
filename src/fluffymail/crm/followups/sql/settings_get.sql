-- The user's follow-up settings (no row: the defaults).
SELECT digest FROM crm.followup_settings WHERE user_id = %(user_id)s
