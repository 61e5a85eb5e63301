-- The user's workspace, where their follow-ups are kept: the one they joined last (as
-- crm/tags/sql/user_workspace.sql); a personal one is made for a user who has none.
WITH found AS (
    SELECT workspace_id FROM crm.workspace_members WHERE user_id = %(user_id)s
    ORDER BY joined_on DESC, workspace_id DESC LIMIT 1
), made AS (
    INSERT INTO crm.workspaces (name) SELECT 'Personal' WHERE NOT EXISTS (SELECT FROM found)
    RETURNING id
), joined AS (
    INSERT INTO crm.workspace_members (workspace_id, user_id, role)
    SELECT id, %(user_id)s, 'owner' FROM made RETURNING workspace_id
)
SELECT workspace_id FROM found UNION ALL SELECT workspace_id FROM joined
