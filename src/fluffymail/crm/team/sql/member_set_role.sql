-- Change a member's role.
UPDATE crm.workspace_members SET role = %(role)s
WHERE workspace_id = %(workspace_id)s AND user_id = %(user_id)s
RETURNING user_id
