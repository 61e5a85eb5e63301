-- Revoke an invite not yet used (its link stops working).
DELETE FROM crm.workspace_invites
WHERE id = %(invite_id)s AND workspace_id = %(workspace_id)s AND used_on IS NULL
RETURNING id
