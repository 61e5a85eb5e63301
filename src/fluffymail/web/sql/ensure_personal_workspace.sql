-- Give a user their own workspace (as owner) unless they already belong to one.
WITH made AS (
    INSERT INTO crm.workspaces (name)
    SELECT %(name)s
    WHERE NOT EXISTS (SELECT 1 FROM crm.workspace_members WHERE user_id = %(user_id)s)
    RETURNING id
)
INSERT INTO crm.workspace_members (workspace_id, user_id, role)
SELECT id, %(user_id)s, 'owner' FROM made
