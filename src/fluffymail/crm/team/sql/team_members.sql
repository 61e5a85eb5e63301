-- A workspace's members, owners first, then by when they joined.
SELECT m.user_id, u.email, u.name, m.role, m.joined_on
FROM crm.workspace_members m
JOIN crm.users u ON u.id = m.user_id
WHERE m.workspace_id = %(workspace_id)s
ORDER BY m.role = 'owner' DESC, m.joined_on, m.user_id
