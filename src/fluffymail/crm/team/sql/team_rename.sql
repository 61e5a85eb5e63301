-- Rename a workspace.
UPDATE crm.workspaces SET name = %(name)s WHERE id = %(workspace_id)s
