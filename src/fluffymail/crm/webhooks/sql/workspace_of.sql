-- The user's workspace, whose webhooks they manage: the one they own, else the oldest they
-- belong to (as for tags and follow-ups).
SELECT workspace_id FROM crm.workspace_members WHERE user_id = %(user_id)s
ORDER BY role = 'owner' DESC, workspace_id LIMIT 1
