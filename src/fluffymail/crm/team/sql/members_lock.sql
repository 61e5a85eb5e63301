-- Lock a workspace's memberships (role changes and removals check "the last owner" under it).
SELECT user_id, role FROM crm.workspace_members
WHERE workspace_id = %(workspace_id)s
ORDER BY user_id
FOR UPDATE
