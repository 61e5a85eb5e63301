-- The workspace a user's tags, notes and activity go to: the one they joined last (a
-- personal one, until they accept an invite to a team: 0028_teammates.sql).
SELECT workspace_id
FROM crm.workspace_members
WHERE user_id = %(user_id)s
ORDER BY joined_on DESC, workspace_id DESC
LIMIT 1
