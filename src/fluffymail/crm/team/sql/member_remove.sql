-- Remove a member from a workspace.
DELETE FROM crm.workspace_members
WHERE workspace_id = %(workspace_id)s AND user_id = %(user_id)s
RETURNING user_id
