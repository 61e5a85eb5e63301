-- Add a user to a workspace with a role; already a member: nothing changes.
INSERT INTO crm.workspace_members (workspace_id, user_id, role, joined_on)
VALUES (%(workspace_id)s, %(user_id)s, %(role)s, %(now)s)
ON CONFLICT (workspace_id, user_id) DO NOTHING
RETURNING user_id
