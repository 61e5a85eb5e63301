-- Delete a subscription with its delivery log; nothing when not the workspace's.
DELETE FROM crm.webhooks WHERE id = %(id)s AND workspace_id = %(workspace_id)s
RETURNING id
