-- Spend an invite: mark it used by the user (the caller checked it is live and locked it).
UPDATE crm.workspace_invites SET used_on = %(now)s, used_by = %(user_id)s
WHERE id = %(invite_id)s AND used_on IS NULL
