-- Contacts that are groups by the pure rules (`groups.group_reason`: the address or a display
-- name says so), seen in this batch: a person becomes a group, never the reverse here.
UPDATE crm.contacts c SET kind = 'group', kind_reason = g.reason, updated_on = %(now)s
FROM jsonb_to_recordset(%(groups)s::jsonb) AS g(id bigint, reason text)
WHERE c.id = g.id AND c.kind = 'person'
