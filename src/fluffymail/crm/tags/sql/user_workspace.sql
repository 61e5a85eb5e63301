-- The workspace a user's tags, notes and activity go to: the one they own, else the oldest
-- they belong to.
SELECT workspace_id
FROM crm.workspace_members
WHERE user_id = %(user_id)s
ORDER BY role = 'owner' DESC, workspace_id
LIMIT 1
